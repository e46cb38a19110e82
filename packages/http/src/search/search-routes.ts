import { InvalidArgumentError, type SyncEngine } from '@sync-engine/core'
import type { Hono } from 'hono'
import { z } from 'zod'
import { readJsonBody } from '../encoding/read-json-body.ts'
import { methodRoutes } from '../routing/method-routes.ts'
import { readQuery } from '../validation/read-query.ts'
import { decimalText } from '../validation/routing-schemas.ts'

const listingQuerySchema = z
  .object({
    prefix: z.string().optional(),
    state: z.string().optional(),
    cursor: z.string().optional(),
    limit: decimalText(z.number().int().min(1).max(1000)).optional(),
  })
  .strict()

const countQuerySchema = z.object({ prefix: z.string().optional(), state: z.string().optional() }).strict()

const bulkDeleteQuerySchema = z
  .object({
    prefix: z.string(),
    state: z.string().optional(),
    confirm: z.string().optional(),
    limit: decimalText(z.number().int().min(1).max(1000)).optional(),
  })
  .strict()

/** A definition or a query is small: 64 KiB is far more than any needs. */
const SEARCH_BODY_LIMIT = 64 * 1024

/**
 * Index management and search (see docs/search.md): `PUT /v1/indexes/:name` answers once the
 * index covers every existing item under its prefix (201 created, 200 when the same definition
 * was there), `GET /v1/indexes`, `DELETE /v1/indexes/:name` (204; 404 for an unknown index),
 * `POST /v1/search`. Bad definitions and queries are 400 problems naming the member.
 */
export function registerSearchRoutes(app: Hono, engine: SyncEngine): void {
  const bodyLimit = { bodyLimit: () => SEARCH_BODY_LIMIT }
  methodRoutes(app, '/v1/indexes', {
    GET(c) {
      return c.json({ indexes: engine.listIndexes() })
    },
  })
  methodRoutes(
    app,
    '/v1/indexes/:name',
    {
      async PUT(c) {
        const body = await readJsonBody(c)
        const fields = body !== null && typeof body === 'object' && !Array.isArray(body) ? body : { body }
        const { created, definition } = await engine.defineIndex({ ...fields, name: c.req.param('name') })
        return c.json(definition, created ? 201 : 200)
      },
      // The definition, its state (`ready`, `building`) and, while this server backfills it, `covered`.
      async GET(c) {
        return c.json(await engine.indexStatus(c.req.param('name') ?? ''))
      },
      async DELETE(c) {
        await engine.dropIndex(c.req.param('name') ?? '')
        return new Response(null, { status: 204 })
      },
    },
    bodyLimit,
  )
  // Listing: live items under a prefix and with a state, in id order (the same read-your-writes
  // rule as search). Strict query: an unknown parameter is a 400.
  methodRoutes(app, '/v1/items', {
    async GET(c) {
      const { limit, ...rest } = readQuery(c, listingQuerySchema)
      return c.json(await engine.listItems({ ...rest, ...(limit !== undefined && { limit }) }))
    },
    // A guarded bulk delete: without confirm=true nothing is deleted.
    async DELETE(c) {
      const { confirm, prefix, state, limit } = readQuery(c, bulkDeleteQuerySchema)
      if (confirm !== 'true') {
        throw new InvalidArgumentError(
          'a bulk delete needs confirm=true (and a prefix, or prefix= for every item)',
        )
      }
      // With limit: one step of at most that many ({ deleted, more }), for progress and bounded requests.
      return c.json(
        await engine.deletePrefix({
          prefix,
          ...(state !== undefined && { state }),
          ...(limit !== undefined && { limit }),
        }),
      )
    },
  })
  methodRoutes(app, '/v1/items:count', {
    async GET(c) {
      return c.json({ count: await engine.countItems(readQuery(c, countQuerySchema)) })
    },
  })
  methodRoutes(
    app,
    '/v1/search',
    {
      async POST(c) {
        return c.json(await engine.search(await readJsonBody(c)))
      },
    },
    bodyLimit,
  )
}
