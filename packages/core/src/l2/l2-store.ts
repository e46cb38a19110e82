import type { RecordHead, StoredRecord } from '../l3/stored-record.ts'
import type { CorruptValue } from './corrupt-value.ts'
import type { RedisCapabilities } from './redis-transport.ts'

export interface L2WriteEntry {
  /** An item, or a tombstone (`tombstone: true`, `content: null`). */
  readonly record: StoredRecord
  /** Expiry of an item, in ms; none means it persists. Tombstones always get the tombstone retention. */
  readonly ttlMs?: number
  /**
   * Also replace an entry at the same version: a repair from L3 after the stored content failed
   * its hash. A newer stored version is still kept. Damaged values are replaced without it.
   */
  readonly repair?: boolean
  /**
   * Write only if the key holds a live item at exactly this version; 0: only if it holds none
   * (absent, a tombstone or damaged). Checked atomically with the write.
   */
  readonly ifVersion?: number
}

export interface L2WriteResult {
  /** Entries written (a newer version, or the first one). */
  readonly applied: number
  /** Ids whose write was older than what L2 holds (the guard kept the newer one). */
  readonly stale: string[]
  /** Ids whose write replaced a live item (for tombstones: the delete found the item). */
  readonly replacedLive?: string[]
  /** Ids whose `ifVersion` did not hold (not written): id → the live version (0: none). */
  readonly conflicts?: ReadonlyMap<string, number>
}

/** A record (item or tombstone), or the marker of a value that could not be decoded. */
export type L2Value = StoredRecord | CorruptValue

export interface L2ScanPage {
  readonly ids: string[]
  /** Pass back to continue; null when the scan is complete. */
  readonly cursor: string | null
}

/** L2, the shared cache: what the engine needs from Redis, whatever the driver. */
export interface L2Store {
  readonly driver: string
  /** What the server offers, as detected by `init()` (all false before). For health reports. */
  readonly capabilities: RedisCapabilities
  /** Detects capabilities. Call once before use. */
  init(): Promise<void>
  /**
   * Version-guarded writes of items and tombstones, atomically per key, all in one round trip.
   * An entry at the version already stored is a no-op (neither applied nor stale). Ids may repeat:
   * the highest version wins.
   */
  write(entries: readonly L2WriteEntry[]): Promise<L2WriteResult>
  /**
   * Values for the ids that have one (absent ids are not in the map), tombstones included, in one
   * round trip for any number of ids. Undecodable values come back as `CorruptValue`, never thrown.
   */
  read(ids: readonly string[]): Promise<Map<string, L2Value>>
  /** Like `read` without the content (existence checks); a damaged value is `CorruptValue`. */
  head(ids: readonly string[]): Promise<Map<string, RecordHead | CorruptValue>>
  /** Hard delete, not a tombstone (for repair and purges). Returns how many items existed. */
  delete(ids: readonly string[]): Promise<number>
  /**
   * Ids with an L2 entry (items and tombstones) starting with `prefix`, taken literally. Pages
   * follow SCAN: an id may appear in two pages, and a page may hold a few more than `limit`.
   */
  scanPrefix(prefix: string, options?: { cursor?: string; limit?: number }): Promise<L2ScanPage>
  /** How many distinct ids `scanPrefix` would list. Walks the whole key space: for admin use. */
  countPrefix(prefix: string): Promise<number>
  /** One round trip; throws `BackendError` when Redis does not answer. */
  ping(): Promise<void>
  close(): Promise<void>
}
