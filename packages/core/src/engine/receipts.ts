import type { SyncError } from '../errors.ts'
import type { AckLevel } from '../options/submit-options.ts'
import type { EngineState } from './engine-state.ts'

export interface SubmitReceipt {
  readonly id: string
  readonly version: number
  /** The level the write reached before this resolved (`logged` is served as `stored` without a log). */
  readonly ack: AckLevel
}

export interface DeleteReceipt {
  readonly id: string
  /** The tombstone's version. */
  readonly version: number
  readonly ack: AckLevel
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
}

export interface ReconfigureResult {
  /** Fields changed and in effect now. */
  readonly applied: readonly string[]
  /** Fields that differ but only take effect after a restart (not applied). */
  readonly requiresRestart: readonly string[]
}
