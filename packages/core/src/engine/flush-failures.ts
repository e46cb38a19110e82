import type { FlushOutcome } from '../batch/queued-write.ts'
import { FlushError, InvalidArgumentError, SyncError } from '../errors.ts'

export async function settle(done: Promise<FlushOutcome>, id: string): Promise<void> {
  const error = failureOf(await done, id)
  if (error) throw error
}

/**
 * Why the write of `id` is not stored after this flush: refused for good, parked in the log (L3
 * unreachable; it drains later), or failed for now (retried).
 */
export function failureOf(outcome: FlushOutcome, id: string): SyncError | undefined {
  const refusal = outcome.rejected?.get(id)
  if (refusal) return asSyncError(refusal)
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

export function asSyncError(error: unknown): SyncError {
  if (error instanceof SyncError) return error
  return new InvalidArgumentError(describe(error))
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
