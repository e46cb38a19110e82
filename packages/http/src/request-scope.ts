import type { BackgroundScope } from '@sync-engine/core'
import type { Context } from 'hono'

/**
 * The request's own scope for the engine's background work (an L2 back-fill): the runtime's
 * `waitUntil` where it hands one out (Workers, and Hono's Lambda and Vercel adapters), so the work
 * is not frozen or cut off once the response is sent. Undefined on Node, where work just runs.
 */
export function requestScope(c: Context): BackgroundScope | undefined {
  let context: { waitUntil?: (work: Promise<unknown>) => void } | undefined
  try {
    context = c.executionCtx
  } catch {
    // Hono throws when the runtime gave the request no execution context (Node).
    return undefined
  }
  const waitUntil = context?.waitUntil
  return typeof waitUntil === 'function' ? { waitUntil: (work) => waitUntil.call(context, work) } : undefined
}
