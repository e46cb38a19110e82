import type { Hono } from 'hono'

/** `app.fetch`'s shape: what every runtime calls (Node through @hono/node-server, Workers as is). */
export type Fetch = (request: Request, env?: unknown, executionCtx?: unknown) => Response | Promise<Response>

/** A step around the app's fetch: it may answer itself, or call `next` and look at the answer. */
export type FetchWrapper = (next: Fetch) => Fetch

/**
 * Wraps `app.fetch` in `wrappers`, the first outermost. Steps every request takes (the request
 * log, auth, the request's scope) sit here rather than in Hono middleware: with no middleware a
 * route's handler runs alone, and Hono passes on a Response it returns synchronously (an L1-hit
 * GET) without a promise anywhere between the socket and the handler. `app.request` (tests) goes
 * through the same chain.
 */
export function wrapFetch(app: Hono, wrappers: readonly FetchWrapper[]): void {
  let fetch = app.fetch as Fetch
  for (let i = wrappers.length - 1; i >= 0; i--) fetch = wrappers[i]!(fetch)
  app.fetch = fetch as Hono['fetch']
}
