import type { WalStats } from '../log/write-ahead-log.ts'
import type { BreakerStats } from '../resilience/circuit-breaker.ts'

/**
 * What the engine lets the observable instruments read. Every getter is called only when a metric
 * reader collects (never on the request path, never at all without an SDK), each at most once per
 * collection. Shapes are structural so the engine can hand over its parts as they are: `L1Cache`,
 * `WriteQueue`, `ExistenceFilter`, `wal.stats()`, `breaker.stats()`. A getter that is absent or
 * returns undefined (no WAL configured, filter not built yet) reports nothing; one that throws (a
 * part closed mid-shutdown) reports nothing and leaves the others alone.
 */
export interface MetricsSource {
  readonly l1?: () =>
    | { readonly count: number; readonly bytes: number; readonly evictions: number }
    | undefined
  readonly queue?: () => { readonly depth: number; readonly bytes: number } | undefined
  readonly wal?: () => Pick<WalStats, 'entries' | 'bytes'> | undefined
  /** The existence filter, while there is one (`size` = adds minus removes). */
  readonly filter?: () => { readonly size: number } | undefined
  /** One entry per configured backend's breaker. */
  readonly breakers?: () => Iterable<Pick<BreakerStats, 'tier' | 'state' | 'rejections' | 'failures'>>
  /** 0 normal, 1 warn, 2 throttle, 3 critical, 4 emergency. */
  readonly backpressureLevel?: () => number
  /** Monotonic totals the engine keeps for `health()`. */
  readonly l2Reads?: () => { readonly corruptReads: number; readonly failedReads: number } | undefined
}
