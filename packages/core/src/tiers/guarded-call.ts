import type { EngineMetrics } from '../metrics/engine-metrics.ts'
import type { BackendOperation } from '../metrics/metric-attributes.ts'
import type { Platform } from '../platform/platform.ts'
import type { CircuitBreaker, RunOptions } from '../resilience/circuit-breaker.ts'

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
    const started = this.platform.now()
    let options = this.#options.get(operation)
    if (options === undefined) {
      options = { operation }
      this.#options.set(operation, options)
    }
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
