import type { L3Search } from '../search/l3-search.ts'
import type { L3Partitions } from './partitions/partitioned-store.ts'
import type { RecordHead, StoredRecord } from './stored-record.ts'

export interface L3WriteResult {
  /** Rows inserted or replaced. */
  readonly applied: number
  /** Ids the version guard kept at a newer stored version (the write was older). */
  readonly stale: readonly string[]
  /** The stored version of each stale id, where the store read it (it does to find them). */
  readonly storedVersions?: ReadonlyMap<string, number>
  /**
   * Records that were not written because they cannot be stored (a value too long for its column,
   * content over `maxContentBytes`, data the server refuses), each with its typed error. Absent
   * when there are none. The other records of the write are unaffected.
   */
  readonly rejected?: ReadonlyMap<string, Error>
  /**
   * Tombstones of this write that replaced a live item (read in the write's own transaction, so
   * exact): a delete receipt's `existed`, and the filter removes only ids that were held.
   */
  readonly deletedLive?: readonly string[]
  /** Conditional records whose condition did not hold (not written): id → the live version (0: none). */
  readonly conflicts?: ReadonlyMap<string, number>
}

/**
 * A condition checked atomically with a record's write: `ifVersion` n means "only if the live item
 * is at version n", 0 means "only if no live item exists" (create only).
 */
export interface WriteCondition {
  readonly ifVersion: number
}

export interface L3Capabilities {
  /** An upsert's affected-row count tells whether the version guard skipped a row (no extra query). */
  readonly exactChangeCount: boolean
  /** Largest number of rows one upsert statement carries. */
  readonly maxRowsPerStatement: number
  /**
   * Largest content one record can carry (MySQL: bounded by the server's max_allowed_packet),
   * known once `init()` has connected. Absent when the store sets no limit of its own.
   */
  readonly maxContentBytes?: number
  /**
   * Other processes may write this L3 (a database server, not a file of this process): L1 then
   * needs a bounded staleness until a change feed invalidates it.
   */
  readonly shared: boolean
}

/** L3, the ground truth: what the engine needs from SQL, whatever the dialect or driver. */
export interface L3WriteOptions {
  /**
   * Report the ids the version guard kept a newer version of (`stale`). Default true. False lets a
   * store skip the work of finding them (MySQL reads the versions back): for callers that
   * invalidate their caches instead, such as a log drain.
   */
  readonly reportStale?: boolean
  /** Conditions of some records, by id; each such record is written alone and atomically checked. */
  readonly conditions?: ReadonlyMap<string, WriteCondition>
  /** The time that decides which stored items have expired (default: the wall clock). */
  readonly now?: number
}

export interface L3Store {
  readonly dialect: string
  readonly driver: string
  readonly capabilities: L3Capabilities
  /** Search over named indexes, where this L3 has it (the SQL stores). */
  readonly search?: L3Search
  /** Partitions by id prefix, where this L3 has them (the SQL stores the drivers create). */
  readonly partitions?: L3Partitions
  /**
   * Which database this is, without credentials (dialect, host, database, table): the write-ahead
   * log records it, so writes logged for one L3 are never replayed into another.
   */
  readonly identity: string
  /** Creates the schema if it is missing (and adds columns an older schema lacks). */
  init(): Promise<void>
  /**
   * Version-guarded upsert of items and tombstones, atomically. Ids must be distinct. Records that
   * cannot be stored are returned in `rejected`, never sent, and do not stop the others.
   */
  write(records: readonly StoredRecord[], options?: L3WriteOptions): Promise<L3WriteResult>
  /** Records for the ids that have one, tombstones and expired items included (the caller decides). */
  read(ids: readonly string[]): Promise<Map<string, StoredRecord>>
  /** Like `read` without the content: for existence checks. */
  head(ids: readonly string[]): Promise<Map<string, RecordHead>>
  /**
   * Ids in order after `after` (keyset pagination), live items only (not expired at `now`, when
   * given), optionally under a prefix.
   */
  scanIds(options: { after?: string; limit: number; prefix?: string; now?: number }): Promise<string[]>
  /** The highest version stored, tombstones included (seeds the clock at start); 0 when empty. */
  maxVersion(): Promise<number>
  /** Live items stored. */
  count(): Promise<number>
  /** Removes tombstones last written before `olderThanMs`; returns how many. */
  purgeTombstones(olderThanMs: number): Promise<number>
  /**
   * Turns items expired at `now` into tombstones (content dropped, version kept, so a delayed
   * older write still cannot bring them back); the tombstone purge removes them later. Returns how many.
   */
  purgeExpired(now: number): Promise<number>
  /** A cheap round trip, for health checks. */
  ping(): Promise<void>
  close(): Promise<void>
}
