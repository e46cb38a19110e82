import { UnauthorizedError } from '../problems/http-errors.ts'
import { problemFor, problemResponse } from '../problems/problem-details.ts'
import type { FetchWrapper } from '../routing/fetch-chain.ts'
import { rawPath } from '../routing/raw-path.ts'
import { matchesAnyToken } from './constant-time-equal.ts'

/** Probes stay open so that orchestrators can check the process without holding a secret. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/health', '/ready'])

const encoder = new TextEncoder()
const BEARER = /^Bearer +(\S+) *$/i

/**
 * Bearer-token auth, before the app sees the request (so before any body is read). With no tokens
 * configured every request passes and this step is not there at all (the Node entry then refuses
 * to listen beyond loopback); with tokens, every route but the probes needs one. Tokens are
 * encoded once here and never logged or echoed.
 */
export function requireBearer(tokens: readonly string[]): FetchWrapper {
  const expected = tokens.map((token) => encoder.encode(token))
  if (expected.length === 0) return (next) => next
  return (next) => (request, env, executionCtx) => {
    if (PUBLIC_PATHS.has(rawPath(request.url))) return next(request, env, executionCtx)
    const match = BEARER.exec(request.headers.get('authorization') ?? '')
    if (!match) return refuse('missing')
    if (!matchesAnyToken(encoder.encode(match[1]!), expected)) return refuse('invalid')
    return next(request, env, executionCtx)
  }
}

function refuse(reason: 'missing' | 'invalid'): Response {
  return problemResponse(problemFor(new UnauthorizedError(reason)))
}
