import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { RequestBodyTooLargeError } from '../problems/http-errors.ts'

/**
 * Rejects a body larger than `limitBytes(c)` before the handler reads it: at once from a
 * `Content-Length` header, and for a chunked body by counting while reading and stopping at the
 * first byte past the limit (both done by `hono/body-limit`). The limit is read per request so
 * that it follows `engine.reconfigure({ maxPayloadBytes })`. Only on routes that read a body: it
 * asks for `c.req.raw.body`, which makes @hono/node-server build a whole WHATWG Request.
 */
export function limitBody(limitBytes: (c: Context) => number): MiddlewareHandler {
  return (c, next) => {
    const limit = limitBytes(c)
    return bodyLimit({
      maxSize: limit,
      onError: () => {
        throw new RequestBodyTooLargeError(limit, declaredLength(c))
      },
    })(c, next)
  }
}

function declaredLength(c: Context): number | undefined {
  const header = c.req.header('content-length')
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined
}
