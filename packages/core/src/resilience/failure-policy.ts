import { BackendError } from '../errors.ts'
import { RedisReplyError } from '../l2/redis-reply-error.ts'
import { CircuitOpenError } from './circuit-open-error.ts'
import { DeadlineExceededError } from './deadline-exceeded-error.ts'

/** Decides whether an error a call threw says the backend is unhealthy (and so counts toward opening). */
export type FailurePredicate = (error: unknown) => boolean

/**
 * Redis error replies that describe the server, not the command or the key: loading, busy
 * scripts, failover, cluster down, out of memory, persistence broken. Any other reply (WRONGTYPE at
 * one corrupt key, NOSCRIPT, a syntax ERR) is about one call and must not open the circuit.
 */
const SERVER_STATE_REPLIES: ReadonlySet<string> = new Set([
  'LOADING',
  'BUSY',
  'MASTERDOWN',
  'CLUSTERDOWN',
  'TRYAGAIN',
  'READONLY',
  'MISCONF',
  'NOREPLICAS',
  'OOM',
])

/**
 * The default failure policy. Counts: a `BackendError` (connection lost, server error), a
 * `DeadlineExceededError`, any error named `TimeoutError` (what `AbortSignal.timeout` raises), and
 * Redis replies about the server's state. Does not count: caller errors (`InvalidArgumentError`
 * and every other `SyncError`: one bad item must never open the circuit), Redis replies about one
 * command or key, another breaker's `CircuitOpenError`, and errors of unknown origin — transports
 * wrap every backend failure in `BackendError`, so anything else is a caller's or a bug.
 */
export function isBackendFailure(error: unknown): boolean {
  if (error instanceof DeadlineExceededError) return true
  if (error instanceof CircuitOpenError) return false
  if (error instanceof RedisReplyError) {
    return SERVER_STATE_REPLIES.has(error.replyCode) || /max number of clients/i.test(error.reply)
  }
  if (error instanceof BackendError) return true
  return error instanceof Error && error.name === 'TimeoutError'
}
