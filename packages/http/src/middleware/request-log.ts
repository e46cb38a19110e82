import type { Logger } from '@sync-engine/core'
import type { MiddlewareHandler } from 'hono'

/**
 * One log line per request: method, path, status and duration. Headers are never logged (the
 * Authorization header carries a token), nor the query string or body.
 */
export function requestLog(logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = Date.now()
    await next()
    const fields = {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Date.now() - started,
    }
    if (c.res.status >= 500) logger.error(fields, 'request failed')
    else logger.info(fields, 'request')
  }
}
