import type { SyncEngine } from '@sync-engine/core'
import type { Hono } from 'hono'
import { methodRoutes } from './routing/method-routes.ts'

/** Operations on the whole engine. Behind auth like every route but the probes. */
export function registerAdminRoutes(app: Hono, engine: SyncEngine): void {
  methodRoutes(app, '/v1/admin/flush', {
    async POST(c) {
      return c.json(await engine.flush())
    },
  })
  methodRoutes(app, '/v1/stats', {
    async GET(c) {
      return c.json(await engine.health())
    },
  })
}
