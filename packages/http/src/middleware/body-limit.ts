import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { RequestBodyTooLargeError } from '../problems/http-errors.ts'

/**
 * Rejects a body larger than `limitBytes(c)` before the handler reads it. The limit is read per
 * request so that it follows `engine.reconfigure({ maxPayloadBytes })`.
 *
 * A body with a `Content-Length` (and no `Transfer-Encoding`) is that long — the server reads that
 * many bytes and no more — so the header alone decides, and the handler reads the body the
 * server's fastest way. Only a chunked body is counted while it is read, stopping at the first
 * byte past the limit (`hono/body-limit`): counting asks for `c.req.raw.body`, which makes
 * @hono/node-server build a whole WHATWG Request and stream, a fifth of a PUT's cost. Routes put it
 * only before handlers that read a body (`methodRoutes`: not on GET, nor so on HEAD).
 */
export function limitBody(limitBytes: (c: Context) => number): MiddlewareHandler {
  return (c, next) => {
    const limit = limitBytes(c)
    const declared = declaredLength(c)
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (declared > limit) throw new RequestBodyTooLargeError(limit, declared)
      return next()
    }
    return bodyLimit({
      maxSize: limit,
      onError: () => {
        throw new RequestBodyTooLargeError(limit, declared)
      },
    })(c, next)
  }
}

function declaredLength(c: Context): number | undefined {
  const header = c.req.header('content-length')
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined
}
