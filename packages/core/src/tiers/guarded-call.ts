import type { EngineMetrics } from '../metrics/engine-metrics.ts'
import type { BackendOperation } from '../metrics/metric-attributes.ts'
import type { Platform } from '../platform/platform.ts'
import type { CircuitBreaker, RunOptions } from '../resilience/circuit-breaker.ts'

/** How long an admin job may run in all (a day; see `runJob`). */
const JOB_DEADLINE_MS = 24 * 60 * 60 * 1000

/**
 * One backend call as every tier makes it: through the tier's circuit breaker (its deadline, and
 * a fast `CircuitOpenError` while open), timed into `sync_engine.backend.duration`. Every call a
 * tier wrapper makes goes through here — reads, writes, scans, pings, `init` — so no call can
 * bypass the breaker or go unmeasured.
 */
export class GuardedCall {
  /** The breaker's options per operation, built once (nothing allocated per call). */
  readonly #options = new Map<BackendOperation, RunOptions>()

  constructor(
    readonly breaker: CircuitBreaker,
    private readonly metrics: EngineMetrics,
    private readonly platform: Platform,
  ) {}

  run<T>(operation: BackendOperation, call: () => Promise<T>): Promise<T> {
    let options = this.#options.get(operation)
    if (options === undefined) {
      options = { operation }
      this.#options.set(operation, options)
    }
    return this.#run(operation, call, options)
  }

  /**
   * An admin job (define an index and backfill it, register a partition): refused while the
   * breaker is open and measured like any call, but not cut off at one call's deadline. It waits
   * for other instances to re-read the catalog (longer than a call may take) and runs many
   * statements, each under the transport's own deadline, so a hung backend still fails it.
   */
  runJob<T>(operation: BackendOperation, call: () => Promise<T>): Promise<T> {
    return this.#run(operation, call, { operation, deadlineMs: JOB_DEADLINE_MS })
  }

  #run<T>(operation: BackendOperation, call: () => Promise<T>, options: RunOptions): Promise<T> {
    const started = this.platform.now()
    return this.breaker.run(call, options).then(
      (value) => {
        this.metrics.backendCall(this.breaker.tier, operation, this.platform.now() - started)
        return value
      },
      (error: unknown) => {
        this.metrics.backendCall(this.breaker.tier, operation, this.platform.now() - started, false)
        throw error
      },
    )
  }

  /** Whether calls go through now (closed); half-open admits only its probe. */
  get closed(): boolean {
    return this.breaker.state === 'closed'
  }

  get open(): boolean {
    return this.breaker.state === 'open'
  }
}
