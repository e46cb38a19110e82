/**
 * Where background work of a call goes (an L2 back-fill, a repair): on Node it just runs; on
 * Workers and Lambda it must be handed to the request (`ctx.waitUntil`), or the runtime may
 * freeze or end it once the response is sent. A scope belongs to one request, not to the engine:
 * hosts pass the request's own (`{ waitUntil: ctx.waitUntil.bind(ctx) }`).
 */
export interface BackgroundScope {
  waitUntil(work: Promise<unknown>): void
}

/** Work runs on its own; its failure is the work's business (it logs), never an unhandled rejection. */
export const DETACHED_SCOPE: BackgroundScope = {
  waitUntil(work) {
    work.catch(() => {})
  },
}
