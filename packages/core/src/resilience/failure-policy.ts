import { BackendError } from '../errors.ts'
import { CircuitOpenError } from './circuit-open-error.ts'
import { DeadlineExceededError } from './deadline-exceeded-error.ts'

/** Decides whether an error a call threw says the backend is unhealthy (and so counts toward opening). */
export type FailurePredicate = (error: unknown) => boolean

/**
 * The default failure policy. Counts: a `BackendError` (connection lost, server error), a
 * `DeadlineExceededError`, any error named `TimeoutError` (what `AbortSignal.timeout` raises), and
 * error replies their backend classifies as about the server (`indicatesBackendFailure`, e.g. a
 * Redis `OOM`). Does not count: caller errors (`InvalidArgumentError` and every other `SyncError`:
 * one bad item must never open the circuit), replies about one command or key, another breaker's
 * `CircuitOpenError`, and errors of unknown origin — transports
 * wrap every backend failure in `BackendError`, so anything else is a caller's or a bug.
 */
export function isBackendFailure(error: unknown): boolean {
  if (error instanceof DeadlineExceededError) return true
  if (error instanceof CircuitOpenError) return false
  // A backend's own classification of its error replies (e.g. `RedisReplyError`): some describe
  // the server (out of memory, loading), most only the one call (a wrong type at one key).
  const classified = (error as { indicatesBackendFailure?: unknown } | null)?.indicatesBackendFailure
  if (typeof classified === 'boolean') return classified
  if (error instanceof BackendError) return true
  return error instanceof Error && error.name === 'TimeoutError'
}
