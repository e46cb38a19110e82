import { NotFoundError, type SyncEngine } from '@sync-engine/core'
import type { Hono } from 'hono'
import { limitBody } from '../middleware/body-limit.ts'
import { methodRoutes } from '../routing/method-routes.ts'
import { readQuery } from '../validation/read-query.ts'
import { submitOptionsFrom } from '../validation/routing-schemas.ts'
import { etagFor, ifNoneMatchMatches } from './etag.ts'
import { itemFromRequest } from './item-from-request.ts'
import { itemIdParam, itemPath } from './item-id-param.ts'
import { deleteItemQuerySchema, putItemQuerySchema } from './item-query.ts'

/**
 * `/v1/items/:id` (PUT raw bytes, GET them back, DELETE) and `/v1/items/:id/status`.
 * An empty id has no URL of its own: `/v1/items/` matches no route and answers 404 `not-found`.
 */
export function registerItemRoutes(app: Hono, engine: SyncEngine): void {
  // An item body is one payload: the engine's own limit, checked before the body is read.
  app.use(
    '/v1/items/:id',
    limitBody(() => engine.config.maxPayloadBytes),
  )

  methodRoutes(app, '/v1/items/:id', {
    async PUT(c) {
      const id = itemIdParam(c)
      const query = readQuery(c, putItemQuerySchema)
      const body = new Uint8Array(await c.req.arrayBuffer())
      const item = itemFromRequest(id, body, c.req.header('content-type'), { version: query.version })
      // 201 vs 200 is best effort: a concurrent writer of the same id may land in between.
      const existed = await engine.contains(id)
      const receipt = await engine.submit(item, submitOptionsFrom(query))
      c.header('etag', etagFor(receipt.version))
      if (!existed) c.header('location', itemPath(id))
      return c.json({ id: receipt.id, version: receipt.version, ack: receipt.ack }, existed ? 200 : 201)
    },

    async GET(c) {
      const id = itemIdParam(c)
      const item = await engine.get(id)
      if (item === undefined) throw new NotFoundError(`no item with id ${JSON.stringify(id)}`)
      const etag = etagFor(item.version)
      // no-cache: caches may keep the bytes but must revalidate (cheap, thanks to the ETag).
      if (ifNoneMatchMatches(c.req.header('if-none-match'), etag)) {
        return c.body(null, 304, { etag, 'cache-control': 'no-cache' })
      }
      return c.body(ownBytes(item.content), 200, {
        'content-type': item.mime,
        etag,
        'cache-control': 'no-cache',
      })
    },

    async DELETE(c) {
      const id = itemIdParam(c)
      const query = readQuery(c, deleteItemQuerySchema)
      // Idempotent: deleting an absent id still records a tombstone and answers 204.
      await engine.delete(id, query.ack === undefined ? undefined : { ack: query.ack })
      return c.body(null, 204)
    },
  })

  methodRoutes(app, '/v1/items/:id/status', {
    async GET(c) {
      return c.json(await engine.status(itemIdParam(c, 1)))
    },
  })
}

/** Response bodies take ArrayBuffer-backed bytes; a (rare) SharedArrayBuffer view is copied. */
function ownBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes)
}
