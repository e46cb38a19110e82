import { isSyncError } from '@sync-engine/core'
import { HTTPException } from 'hono/http-exception'
import { HttpError } from './http-errors.ts'

/** Every problem `type` is this base plus the error code in kebab case (`INVALID_ID` → `invalid-id`). */
export const PROBLEM_TYPE_BASE = 'https://sync-engine.dev/problems/'
export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** An RFC 9457 problem details object, plus the stable `code` of the error class. */
export interface Problem {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly code: string
}

/** A problem and the headers that must travel with its status. */
export interface ProblemAnswer {
  readonly problem: Problem
  readonly headers: Readonly<Record<string, string>>
  /** Not a failure the caller caused or can act on: log it, and never show its message. */
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
      problem: problem(error.code, error.status, error.message),
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

function problem(code: string, status: number, detail: string): Problem {
  return { type: problemTypeFor(code), title: titleFor(code), status, detail, code }
}

/** `INVALID_ID` → `Invalid id`: derived from the code, so it is as stable as the code. */
function titleFor(code: string): string {
  const words = code.toLowerCase().replace(/_/g, ' ')
  return words.charAt(0).toUpperCase() + words.slice(1)
}
