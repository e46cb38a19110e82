import { SyncError } from '../errors.ts'
import type { BackendTier } from './backend-tier.ts'

/** A backend call did not settle within its deadline. It may still complete at the backend. */
export class DeadlineExceededError extends SyncError {
  readonly code = 'DEADLINE_EXCEEDED'
  readonly status = 503
  override readonly retryable = true

  constructor(
    readonly tier: BackendTier,
    readonly deadlineMs: number,
    /** What timed out (`'flush'`, `'get'`…), for logs; absent when the caller did not say. */
    readonly operation?: string,
  ) {
    super(`${tier}: ${operation ?? 'call'} exceeded its ${deadlineMs} ms deadline`)
  }
}
