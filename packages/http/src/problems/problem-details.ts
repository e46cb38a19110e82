import { isSyncError } from '@sync-engine/core'
import { HTTPException } from 'hono/http-exception'
import { HttpError } from './http-errors.ts'

/** Every problem `type` is this base plus the error code in kebab case (`INVALID_ID` → `invalid-id`). */
export const PROBLEM_TYPE_BASE = 'https://sync-engine.dev/problems/'
export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/**
 * An RFC 9457 problem details object, plus the stable `code` of the error class and, where the
 * error carries them, extension members (RFC 9457 §3.2) a client can act on without parsing
 * `detail`: the item `id`, the refused write's `version`, the `currentVersion` that stays (409
 * `stale-version`: 0 = unknown; 412 `precondition-failed`: 0 = the item does not exist) and the
 * `expectedVersion` of a conditional write (0 = "only if absent").
 */
export interface Problem {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly code: string
  readonly id?: string
  readonly version?: number
  readonly currentVersion?: number
  readonly expectedVersion?: number
}

/**
 * The error fields copied into a problem, by name and type: facts about the caller's own request
 * and item, safe to show. Nothing else of an error is (hashes, tiers, causes stay in the log).
 */
const EXTENSION_MEMBERS = [
  ['id', 'string'],
  ['version', 'number'],
  ['currentVersion', 'number'],
  ['expectedVersion', 'number'],
] as const

/** A problem and the headers that must travel with its status. */
export interface ProblemAnswer {
  readonly problem: Problem
  readonly headers: Readonly<Record<string, string>>
  /**
   * A server error (5xx): log it. Its detail is the error's message only for a `SyncError`
   * (whose messages are written to be shown, e.g. `corruption` naming the id); any other error
   * gets a generic detail.
   */
  readonly internal: boolean
}

const INTERNAL_DETAIL = 'the server failed to handle this request; the failure has been logged'

export function problemTypeFor(code: string): string {
  return PROBLEM_TYPE_BASE + code.toLowerCase().replace(/_/g, '-')
}

/**
 * The one mapping from a thrown value to a problem. `SyncError`s (the core's and the HTTP
 * layer's) carry their own code, status and a message that is safe to show; anything else is a
 * 500 `INTERNAL` whose message stays in the log, since it may quote internals.
 */
export function problemFor(error: unknown): ProblemAnswer {
  if (isSyncError(error)) {
    const headers: Record<string, string> = error instanceof HttpError ? { ...error.headers } : {}
    // A retryable 503 (engine not ready, backend down) tells clients when to come back.
    if (error.retryable && error.status === 503) headers['retry-after'] = String(retryAfterSeconds(error))
    return {
      problem: withExtensions(problem(error.code, error.status, error.message), error),
      headers,
      internal: error.status >= 500,
    }
  }
  // Hono's own errors (a middleware we did not wrap): keep their status, never their message.
  if (error instanceof HTTPException && error.status < 500) {
    return {
      problem: problem(`HTTP_${error.status}`, error.status, 'the request was rejected'),
      headers: {},
      internal: false,
    }
  }
  return { problem: problem('INTERNAL', 500, INTERNAL_DETAIL), headers: {}, internal: true }
}

/** Whole seconds (at least 1) from an error that knows when to retry (breaker, backpressure). */
function retryAfterSeconds(error: object): number {
  const ms = (error as { retryAfterMs?: unknown }).retryAfterMs
  return typeof ms === 'number' && Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000)) : 1
}

export function problemResponse(answer: ProblemAnswer): Response {
  return new Response(JSON.stringify(answer.problem), {
    status: answer.problem.status,
    headers: { ...answer.headers, 'content-type': PROBLEM_CONTENT_TYPE },
  })
}

/** The problem plus the extension members `error` has (none, for most errors: no allocation). */
function withExtensions(base: Problem, error: object): Problem {
  let extended: Record<string, unknown> | undefined
  for (const [name, type] of EXTENSION_MEMBERS) {
    const value = (error as Record<string, unknown>)[name]
    if (typeof value !== type || (type === 'number' && !Number.isSafeInteger(value))) continue
    extended ??= { ...base }
    extended[name] = value
  }
  return (extended as Problem | undefined) ?? base
}

function problem(code: string, status: number, detail: string): Problem {
  return { type: problemTypeFor(code), title: titleFor(code), status, detail, code }
}

/** `INVALID_ID` → `Invalid id`: derived from the code, so it is as stable as the code. */
function titleFor(code: string): string {
  const words = code.toLowerCase().replace(/_/g, ' ')
  return words.charAt(0).toUpperCase() + words.slice(1)
}
