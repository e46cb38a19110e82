import type { SyncEngine } from '@sync-engine/core'
import type { Hono } from 'hono'
import { readJsonBody } from '../encoding/read-json-body.ts'
import { methodRoutes } from '../routing/method-routes.ts'

/** A registration is one prefix: 4 KiB is plenty. */
const PARTITION_BODY_LIMIT = 4 * 1024

/**
 * Partitions by id prefix: `GET /v1/partitions` → `{ "partitions": [{ prefix, table }] }`;
 * `POST /v1/partitions` with `{ "prefix": "user:" }` → 201 with the partition (200 when it was
 * registered already; 409 `conflict` once ids under the prefix are stored). The prefix travels in
 * the body, not the path: prefixes end in `:` or `/` and hold anything an id may.
 */
export function registerPartitionRoutes(app: Hono, engine: SyncEngine): void {
  methodRoutes(
    app,
    '/v1/partitions',
    {
      GET(c) {
        return c.json({ partitions: engine.listPartitions() })
      },
      async POST(c) {
        const body = await readJsonBody(c)
        const prefix =
          body !== null && typeof body === 'object' ? (body as { prefix?: unknown }).prefix : body
        const { created, partition } = await engine.registerPartition(prefix as string)
        return c.json(partition, created ? 201 : 200)
      },
    },
    { bodyLimit: () => PARTITION_BODY_LIMIT },
  )
}
