import {
  type DeleteOptions,
  NotFoundError,
  type SubmitOptions,
  type SyncEngine,
  type SyncItem,
} from '@sync-engine/core'
import type { Context, Hono } from 'hono'
import type { RequestScopes } from '../request-scope.ts'
import { methodRoutes } from '../routing/method-routes.ts'
import { readQuery } from '../validation/read-query.ts'
import { submitOptionsFrom } from '../validation/routing-schemas.ts'
import { etagFor, ifNoneMatchMatches } from './etag.ts'
import { itemFromRequest } from './item-from-request.ts'
import { itemIdParam, itemPath } from './item-id-param.ts'
import { deleteItemQuerySchema, getItemQuerySchema, putItemQuerySchema } from './item-query.ts'
import { writeConditionOf } from './write-condition.ts'

/** No-cache: caches may keep the bytes but must revalidate (cheap, thanks to the ETag). */
const CACHE_CONTROL = 'no-cache'

/**
 * `/v1/items/:id` (PUT raw bytes, GET them back, DELETE) and `/v1/items/:id/status`.
 * An empty id has no URL of its own: `/v1/items/` matches no route and answers 404 `not-found`.
 *
 * Responses are built as plain `Response`s with exactly the headers they need: a 304 or 204 has
 * no body and no Content-Type of its own, and a 200 names its Content-Length, so that HEAD (which
 * Hono answers from GET without the body) reports it too.
 */
export function registerItemRoutes(app: Hono, engine: SyncEngine, scopes: RequestScopes): void {
  methodRoutes(
    app,
    '/v1/items/:id',
    {
      async PUT(c) {
        const id = itemIdParam(c)
        const query = readQuery(c, putItemQuerySchema)
        const ifVersion = writeConditionOf(c, id, 'PUT')
        const body = new Uint8Array(await c.req.arrayBuffer())
        const item = itemFromRequest(id, body, c.req.header('content-type'), { version: query.version })
        const options: SubmitOptions = submitOptionsFrom(query)
        if (ifVersion !== undefined) options.ifVersion = ifVersion
        // Nothing is read first: whether the write created the item comes from the receipt (known
        // without I/O, or not at all), so a PUT is accepted while L3 is down, like a batch write.
        const receipt = await engine.submit(item, options)
        const created = receipt.created ?? createdByCondition(ifVersion)
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          etag: etagFor(receipt.version),
        }
        if (created === true) headers.location = itemPath(id)
        return new Response(JSON.stringify({ id: receipt.id, version: receipt.version, ack: receipt.ack }), {
          status: created === true ? 201 : 200,
          headers,
        })
      },

      // Not an async function: an L1 hit is answered synchronously (Hono and the Node server then
      // write it out without a promise in between); anything else takes `get`.
      GET(c) {
        const id = itemIdParam(c)
        const { verify } = readQuery(c, getItemQuerySchema)
        if (verify !== true) {
          const cached = engine.getCached(id)
          if (cached !== undefined) return itemResponse(c, id, cached ?? undefined)
        }
        const options = scopes.readOptions(c)
        const read = verify === true ? engine.getVerified(id, options) : engine.get(id, options)
        return read.then((item) => itemResponse(c, id, item))
      },

      async DELETE(c) {
        const id = itemIdParam(c)
        const query = readQuery(c, deleteItemQuerySchema)
        const ifVersion = writeConditionOf(c, id, 'DELETE')
        // Idempotent: deleting an absent id still records a tombstone and answers 204 (unless
        // If-Match names a version, which an absent id is not at: 412).
        const options: DeleteOptions = {}
        if (query.ack !== undefined) options.ack = query.ack
        if (ifVersion !== undefined) options.ifVersion = ifVersion
        await engine.delete(id, options)
        return new Response(null, { status: 204 })
      },
    },
    // An item body is one payload: the engine's own limit, checked before the body is read.
    { bodyLimit: () => engine.config.maxPayloadBytes },
  )

  methodRoutes(app, '/v1/items/:id/status', {
    async GET(c) {
      return c.json(await engine.status(itemIdParam(c, 1)))
    },
  })
}

/** The answer to a GET: the item's bytes, 304 when If-None-Match names its version, else 404. */
function itemResponse(c: Context, id: string, item: SyncItem | undefined): Response {
  if (item === undefined) throw new NotFoundError(`no item with id ${JSON.stringify(id)}`)
  const etag = etagFor(item.version)
  if (ifNoneMatchMatches(c.req.header('if-none-match'), etag)) {
    return new Response(null, { status: 304, headers: { etag, 'cache-control': CACHE_CONTROL } })
  }
  const content = ownBytes(item.content)
  return new Response(content, {
    status: 200,
    headers: {
      'content-type': item.mime,
      'content-length': String(content.byteLength),
      etag,
      'cache-control': CACHE_CONTROL,
    },
  })
}

/**
 * What a condition that held says of creation: `If-None-Match: *` (ifVersion 0) succeeds only
 * for an absent id, `If-Match: "<v>"` only for a live one.
 */
function createdByCondition(ifVersion: number | undefined): boolean | undefined {
  return ifVersion === undefined ? undefined : ifVersion === 0
}

/** Response bodies take ArrayBuffer-backed bytes; a (rare) SharedArrayBuffer view is copied. */
function ownBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes)
}
