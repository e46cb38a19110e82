import type { SyncItem } from '../item/sync-item.ts'
import type { Route } from '../options/submit-options.ts'

/** One pending mutation: a put (`item`) or a tombstone (`item: null`), with where it goes. */
export interface QueuedWrite {
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
}

/** What a flush reports back: the ids it could not write (they are queued again). */
export interface FlushOutcome {
  readonly written: number
  readonly failed: ReadonlyMap<string, Error>
}

export const EMPTY_OUTCOME: FlushOutcome = { written: 0, failed: new Map() }
