import type { SyncItem } from '../item/sync-item.ts'
import type { L1Entry } from '../l1/l1-cache.ts'
import type { Route } from '../options/submit-options.ts'

/**
 * One pending mutation: a put (`item`) or a tombstone (`item: null`), with where it goes. It is
 * also the L1 entry of the write (one object on the hot path, not two).
 */
export interface QueuedWrite extends L1Entry {
  readonly id: string
  readonly version: number
  /** Epoch ms of the mutation. */
  readonly updatedAt: number
  readonly item: SyncItem | null
  readonly route: Route
  /** Memory the write holds while queued. */
  readonly bytes: number
  /**
   * The caller chose the version. Such a write may be older than what a tier holds, so reads
   * compare it with L3 before serving it; a clock-assigned version is newer than anything seen.
   */
  readonly callerVersioned: boolean
  /**
   * Epoch ms when the item expires in every tier (its TTL), 0 for never. Also its expiry as an
   * L1 entry; L1's own staleness bound is applied where an entry is admitted, not here.
   */
  readonly expiresAt: number
  /**
   * A conditional write (`ifVersion`): applied only if the live item is at this version (0: only
   * if absent), checked atomically by the tier that decides. Never merged with another write of
   * its id, never parked in the log, never retried once refused.
   */
  readonly condition?: number
}

/** What a flush reports back: the ids it could not write (they are queued again). */
export interface FlushOutcome {
  readonly written: number
  /** Ids that failed for now (an outage): they are queued again and retried. */
  readonly failed: ReadonlyMap<string, Error>
  /** Ids a tier refused for good (the record cannot be stored there): not retried, never acknowledged. */
  readonly rejected?: ReadonlyMap<string, Error>
  /**
   * Ids parked in the write-ahead log because L3 was unreachable: not queued again (the log drains
   * them when L3 returns), durable, but not stored yet.
   */
  readonly parked?: ReadonlyMap<string, Error>
  /**
   * Ids the version guard kept a newer stored version of: this write did not happen. Id → the
   * version that stays (0 when the tier did not say).
   */
  readonly superseded?: ReadonlyMap<string, number>
  /** Ids whose tombstone replaced a live item (a delete that found something). */
  readonly deletedLive?: ReadonlySet<string>
}

/** Shared by every outcome without failures (outcomes are read-only). */
export const NO_FAILURES: ReadonlyMap<string, Error> = new Map()
export const EMPTY_OUTCOME: FlushOutcome = { written: 0, failed: NO_FAILURES }
