import { SyncError } from '../errors.ts'
import type { BackendTier } from './backend-tier.ts'

/**
 * A call refused without touching the backend because its circuit breaker is open, or half-open
 * with its one probe already running. Retryable: `retryAfterMs` says when the breaker next lets a
 * call through (open), or the latest moment the running probe frees its slot (half-open).
 */
export class CircuitOpenError extends SyncError {
  readonly code = 'CIRCUIT_OPEN'
  readonly status = 503
  override readonly retryable = true

  constructor(
    readonly tier: BackendTier,
    /** The breaker state that refused the call. */
    readonly breakerState: 'open' | 'half-open',
    /** Milliseconds until the next probe may run; 0 when it may run now. */
    readonly retryAfterMs: number,
  ) {
    super(
      breakerState === 'open'
        ? `${tier}: circuit open, next probe in ${retryAfterMs} ms`
        : `${tier}: circuit half-open, a probe is already running (slot frees within ${retryAfterMs} ms)`,
    )
  }
}
