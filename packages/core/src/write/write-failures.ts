import { BackendError, type FailedPart, FlushError, StaleVersionError, SyncError } from '../errors.ts'
import type { FlushOutcome } from '../queue/queued-write.ts'

/**
 * Why the write of `id` (at `version`) is not stored after this flush: refused for good,
 * superseded by a newer stored version, parked in the log (L3 unreachable; it drains later), or
 * failed for now (retried). Undefined when it was stored.
 */
export function failureOf(outcome: FlushOutcome, id: string, version: number): SyncError | undefined {
  const refusal = outcome.rejected?.get(id)
  if (refusal) return asSyncError(refusal, 'l3')
  const current = outcome.superseded?.get(id)
  if (current !== undefined) return new StaleVersionError(id, version, current)
  const parked = outcome.parked?.get(id)
  if (parked) {
    return new FlushError(
      `write not stored yet: L3 is unavailable, the write is in the write-ahead log and is stored when L3 returns (${parked.message})`,
      { cause: parked },
    )
  }
  const failure = outcome.failed.get(id)
  return failure ? asFlushFailure(failure) : undefined
}

/** A write that failed to flush is still queued and retried: say so, keeping the backend's error as cause. */
function asFlushFailure(failure: Error): SyncError {
  if (failure instanceof FlushError) return failure
  return new FlushError(`write not stored yet (it stays queued and is retried): ${failure.message}`, {
    cause: failure,
  })
}

/**
 * A typed error for anything thrown: a `SyncError` as it is; anything else is a failure of the
 * part named (`unknown` when it is not known which), retryable — never blamed on the caller.
 */
export function asSyncError(error: unknown, part: FailedPart = 'unknown'): SyncError {
  if (error instanceof SyncError) return error
  return new BackendError(part, describe(error), { cause: error })
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
