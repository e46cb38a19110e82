import type { MiddlewareHandler } from 'hono'
import { UnauthorizedError } from '../problems/http-errors.ts'
import { matchesAnyToken } from './constant-time-equal.ts'

/** Probes stay open so that orchestrators can check the process without holding a secret. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/health', '/ready'])

const encoder = new TextEncoder()
const BEARER = /^Bearer +(\S+) *$/i

/**
 * Bearer-token auth (DESIGN §5). With no tokens configured every request passes (the Node entry
 * then refuses to listen beyond loopback); with tokens, every route but the probes needs one.
 * Tokens are encoded once here and never logged or echoed.
 */
export function bearerAuth(tokens: readonly string[]): MiddlewareHandler {
  const expected = tokens.map((token) => encoder.encode(token))
  return async (c, next) => {
    if (expected.length === 0 || PUBLIC_PATHS.has(c.req.path)) return next()
    const match = BEARER.exec(c.req.header('authorization') ?? '')
    if (!match) throw new UnauthorizedError('missing')
    if (!matchesAnyToken(encoder.encode(match[1]!), expected)) throw new UnauthorizedError('invalid')
    return next()
  }
}
