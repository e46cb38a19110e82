import { InvalidJsonError } from '@sync-engine/core'
import type { Context } from 'hono'

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * The request body parsed as JSON whatever its Content-Type; anything that is not UTF-8 JSON is
 * an `InvalidJsonError` (400 `invalid-json`). Body size is limited by the route's middleware.
 */
export async function readJsonBody(c: Context): Promise<unknown> {
  const bytes = new Uint8Array(await c.req.arrayBuffer())
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch {
    throw new InvalidJsonError('request body is not valid UTF-8')
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new InvalidJsonError(`request body is not valid JSON: ${(error as Error).message}`)
  }
}
