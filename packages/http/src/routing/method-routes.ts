import type { Context, Hono, MiddlewareHandler } from 'hono'
import { limitBody } from '../middleware/body-limit.ts'
import { MethodNotAllowedError } from '../problems/http-errors.ts'

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE'
type RouteHandler = (c: Context) => Response | Promise<Response>

export interface RouteOptions {
  /** The largest body a request with one may have, read per request (it follows `reconfigure`). */
  readonly bodyLimit?: (c: Context) => number
}

/** A registered path and the methods it answers, to tell a 405 from a 404. */
interface KnownPath {
  /** The path's segments; a `:name` segment matches any one non-empty segment. */
  readonly segments: readonly string[]
  readonly allowed: readonly string[]
}

const knownPaths = new WeakMap<Hono, KnownPath[]>()

/**
 * Registers the handlers of one path. A request with a body (any method but GET and HEAD) is held
 * to `bodyLimit` before its handler reads it. Other methods answer 405 with an `Allow` header from
 * `answerUnrouted` (Hono alone would answer 404) — found there, not by a catch-all route, so that
 * a GET is matched by its one handler and nothing else (see `wrapFetch`). HEAD is served by Hono
 * from the GET handler.
 */
export function methodRoutes(
  app: Hono,
  path: string,
  handlers: Partial<Record<Method, RouteHandler>>,
  options: RouteOptions = {},
): void {
  const allowed: string[] = []
  const limit: MiddlewareHandler | undefined = options.bodyLimit && limitBody(options.bodyLimit)
  for (const [method, handler] of Object.entries(handlers) as [Method, RouteHandler][]) {
    if (limit && method !== 'GET') app.on(method, path, limit, handler)
    else app.on(method, path, handler)
    allowed.push(method)
    if (method === 'GET') allowed.push('HEAD')
  }
  const paths = knownPaths.get(app) ?? []
  knownPaths.set(app, paths)
  paths.push({ segments: path.split('/'), allowed })
}

/**
 * What a request no route matched gets: 405 with the methods its path does answer, when a route
 * has that path; else `notFound(c)`.
 */
export function answerUnrouted(app: Hono, notFound: (c: Context) => Response): void {
  app.notFound((c) => {
    const segments = c.req.path.split('/')
    const known = knownPaths.get(app)?.find((candidate) => matches(candidate.segments, segments))
    if (known) throw new MethodNotAllowedError(c.req.method, known.allowed)
    return notFound(c)
  })
}

function matches(pattern: readonly string[], segments: readonly string[]): boolean {
  if (pattern.length !== segments.length) return false
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!
    const actual = segments[i]!
    if (expected.startsWith(':') ? actual === '' : expected !== actual) return false
  }
  return true
}
