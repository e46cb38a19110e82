import type { BackgroundScope } from '@sync-engine/core'
import type { Context } from 'hono'
import type { FetchWrapper } from './routing/fetch-chain.ts'

interface ExecutionContextLike {
  waitUntil?: (work: Promise<unknown>) => void
}

/**
 * Each request's own scope for the engine's background work (an L2 back-fill): the runtime's
 * `waitUntil` where it hands one out with the request (Workers: `fetch(request, env, ctx)`), so
 * the work is not frozen or cut off once the response is sent; none on Node, where work just runs.
 *
 * Why not `c.executionCtx`: Hono's getter throws where there is no execution context, and an Error
 * (with its stack) on every Node request is a cost the read path should not pay. So the scope is
 * set by a step around `app.fetch` (`wrapper`) and found by the request object.
 */
export class RequestScopes {
  readonly #scopes = new WeakMap<Request, BackgroundScope>()

  /** The step around `app.fetch` that gives a request coming with an execution context its scope. */
  readonly wrapper: FetchWrapper = (next) => (request, env, executionCtx) => {
    const waitUntil = (executionCtx as ExecutionContextLike | undefined)?.waitUntil
    if (typeof waitUntil === 'function') {
      this.#scopes.set(request, { waitUntil: (work) => waitUntil.call(executionCtx, work) })
    }
    return next(request, env, executionCtx)
  }

  /** The request's scope as read options (`{ scope }`), or undefined. */
  readOptions(c: Context): { scope: BackgroundScope } | undefined {
    const scope = this.#scopes.get(c.req.raw)
    return scope === undefined ? undefined : { scope }
  }
}
