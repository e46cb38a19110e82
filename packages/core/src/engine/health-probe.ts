import type { Platform } from '../platform/platform.ts'
import { describe } from '../write/write-failures.ts'

/** How long one probe's answer is reused: `/ready` is polled by load balancers, often several. */
export const PROBE_CACHE_MS = 1_000

export interface ProbeResult {
  readonly ok: boolean
  readonly latencyMs?: number
  readonly error?: string
  /** Epoch ms the probe ran. */
  readonly at: number
}

/**
 * A backend's ping for health reports, through its breaker, at most once per `PROBE_CACHE_MS`:
 * concurrent and repeated health checks share one round trip, and a backend whose circuit is
 * open is not pinged at all (the breaker answers).
 */
export class HealthProbe {
  #last: ProbeResult | undefined
  #inFlight: Promise<ProbeResult> | undefined

  constructor(
    private readonly ping: () => Promise<void>,
    private readonly platform: Platform,
  ) {}

  check(): Promise<ProbeResult> {
    const now = this.platform.now()
    if (this.#last && now - this.#last.at < PROBE_CACHE_MS) return Promise.resolve(this.#last)
    this.#inFlight ??= this.#probe(now).finally(() => {
      this.#inFlight = undefined
    })
    return this.#inFlight
  }

  /** Forgets the cached answer (a tier just connected or failed: the next report asks again). */
  invalidate(): void {
    this.#last = undefined
  }

  async #probe(at: number): Promise<ProbeResult> {
    try {
      await this.ping()
      this.#last = { ok: true, latencyMs: this.platform.now() - at, at }
    } catch (error) {
      this.#last = { ok: false, error: describe(error), at }
    }
    return this.#last
  }
}
