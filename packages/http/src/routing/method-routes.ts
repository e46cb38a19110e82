import type { Context, Hono } from 'hono'
import { MethodNotAllowedError } from '../problems/http-errors.ts'

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE'
type RouteHandler = (c: Context) => Response | Promise<Response>

/**
 * Registers the handlers of one path and answers every other method with 405 and an `Allow`
 * header (Hono alone would answer 404). HEAD is served by Hono from the GET handler.
 */
export function methodRoutes(app: Hono, path: string, handlers: Partial<Record<Method, RouteHandler>>): void {
  const allowed: string[] = []
  for (const [method, handler] of Object.entries(handlers) as [Method, RouteHandler][]) {
    app.on(method, path, handler)
    allowed.push(method)
    if (method === 'GET') allowed.push('HEAD')
  }
  app.all(path, (c) => {
    throw new MethodNotAllowedError(c.req.method, allowed)
  })
}
