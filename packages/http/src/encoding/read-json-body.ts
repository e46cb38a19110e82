import { parseJsonBytes } from '@sync-engine/core/internal'
import type { Context } from 'hono'

/**
 * The request body parsed as JSON whatever its Content-Type; anything that is not UTF-8 JSON is
 * an `InvalidJsonError` (400 `invalid-json`). Body size is limited by the route's middleware.
 */
export async function readJsonBody(c: Context): Promise<unknown> {
  return parseJsonBytes(new Uint8Array(await c.req.arrayBuffer()))
}
