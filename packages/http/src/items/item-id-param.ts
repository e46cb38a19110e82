import { InvalidIdError, validateId } from '@sync-engine/core'
import type { Context } from 'hono'
import { rawPath } from '../routing/raw-path.ts'

/**
 * The item id of `/v1/items/<id>[/status]`, decoded from the raw URL. Ids are any UTF-8 without
 * control characters, so clients percent-encode them (a `/` in an id is `%2F`). We decode here
 * rather than take Hono's param: Hono keeps a malformed escape such as `%FF` as literal text, which
 * would silently store the id `%FF` (the same id as the well-formed `%25FF`).
 *
 * `segmentsAfter` is how many path segments follow the id (1 for `/status`).
 */
export function itemIdParam(c: Context, segmentsAfter = 0): string {
  const path = rawPath(c.req.url)
  let end = path.length
  for (let k = 0; k < segmentsAfter; k++) end = path.lastIndexOf('/', end - 1)
  const raw = path.slice(path.lastIndexOf('/', end - 1) + 1, end)
  let id: string
  try {
    // Most ids have nothing escaped: no decoding pass for them.
    id = raw.includes('%') ? decodeURIComponent(raw) : raw
  } catch {
    throw new InvalidIdError('the id in the path is not valid percent-encoded UTF-8')
  }
  return validateId(id)
}

/** The path of an item, for `Location` headers. */
export function itemPath(id: string): string {
  return `/v1/items/${encodeURIComponent(id)}`
}
