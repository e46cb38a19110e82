import type { SyncError } from '../errors.ts'
import type { WalStats } from '../log/write-ahead-log.ts'
import type { AckLevel } from '../options/submit-options.ts'
import type { BackpressureSnapshot } from '../pressure/backpressure.ts'
import type { BreakerStats } from '../resilience/circuit-breaker.ts'
import type { EngineState } from './engine-state.ts'

export interface SubmitReceipt {
  readonly id: string
  readonly version: number
  /** The level the write reached before this resolved (`logged` is served as `stored` without a log). */
  readonly ack: AckLevel
  /**
   * Whether the write created the item (no live item had the id), when the engine knows without
   * asking a tier: its own pending write or L1 copy of the id, or a trusted existence filter.
   * Absent when only a tier could say.
   */
  readonly created?: boolean
}

export interface DeleteReceipt {
  readonly id: string
  /** The tombstone's version. */
  readonly version: number
  readonly ack: AckLevel
  /**
   * Whether a live item was deleted. Known from this engine's own pending write or L1 copy of the
   * id, from a trusted existence filter, or — with ack `stored` — from the tier that applied the
   * tombstone, atomically. Absent when only a tier could say and the ack came before it did.
   */
  readonly existed?: boolean
}

/** Per-item result of a bulk call: one bad item never fails the others. */
export type BulkResult<T> =
  | { readonly ok: true; readonly id: string; readonly value: T }
  | { readonly ok: false; readonly id: string; readonly error: SyncError }

export type ItemStatus =
  | { readonly kind: 'pending'; readonly version: number; readonly deleted: boolean }
  | {
      readonly kind: 'synced'
      readonly version: number
      readonly l1: boolean
      readonly l2: boolean
      readonly l3: boolean
    }
  | { readonly kind: 'missing' }

export interface FlushReport {
  /** Writes flushed by this call. */
  readonly written: number
  /** Still queued after it (writes that arrived meanwhile). */
  readonly pending: number
}

export interface TierHealth {
  readonly configured: boolean
  readonly ok: boolean
  readonly driver?: string
  readonly latencyMs?: number
  readonly error?: string
}

export interface HealthReport {
  readonly state: EngineState
  readonly ready: boolean
  readonly l1: {
    readonly items: number
    readonly bytes: number
    readonly maxBytes: number
    readonly evictions: number
    /**
     * How long an entry may be served from memory before it is read again (null: until evicted).
     * Bounded by default when L2 or L3 is shared: another instance's write reaches this L1 within it.
     */
    readonly ttlMs: number | null
    readonly staleness: 'bounded' | 'unbounded'
  }
  readonly queue: { readonly depth: number; readonly bytes: number; readonly consecutiveFailures: number }
  readonly l2: TierHealth & {
    /** What the Redis server offers (detected at start). */
    readonly capabilities?: { readonly json: boolean; readonly search: boolean; readonly cluster: boolean }
    /** L2 values that could not be decoded: served as misses and rewritten from L3. */
    readonly corruptReads: number
    /** L2 reads that failed (unreachable): answered from L3. */
    readonly failedReads: number
  }
  readonly l3: TierHealth & { readonly dialect?: string }
  /** Writes a tier kept a newer version of since start: they did not happen (see `sync_engine.writes.superseded`). */
  readonly writes: { readonly superseded: number }
  /**
   * Tiers the engine works around now: `l3` while it is unreachable or the log holds parked
   * writes for it; `l2` while its circuit is not closed or copies await reconciliation.
   */
  readonly degraded: readonly ('l2' | 'l3' | 'wal')[]
  readonly breakers: { readonly l2: BreakerStats; readonly l3: BreakerStats }
  readonly wal:
    | { readonly configured: false }
    | (WalStats & {
        readonly configured: true
        /** Ids whose newest write is held only by the log. */
        readonly parked: number
        /** Entries written from the log to the tiers since start (replay and drains). */
        readonly drained: number
      })
  readonly filter: {
    readonly enabled: boolean
    /** Negatives are trusted (single writer, built from a complete scan). */
    readonly trusted: boolean
    readonly ids: number
    readonly checks: number
    /** "Maybe present" answers for ids no tier held. */
    readonly falsePositives: number
  }
  /** Ids whose L2 copy may be older than a stored write (dropped when L2 is reachable). */
  readonly l2Reconcile: { readonly pending: number }
  /** The backpressure level, what drives it, and how many writes it delayed or refused. */
  readonly backpressure: BackpressureSnapshot
}

export interface ReconfigureResult {
  /** Fields changed and in effect now. */
  readonly applied: readonly string[]
  /** Fields that differ but only take effect after a restart (not applied). */
  readonly requiresRestart: readonly string[]
  /** Fields this engine cannot change at all (e.g. `logLevel` with a logger that has no settable level). */
  readonly unsupported: readonly string[]
}
