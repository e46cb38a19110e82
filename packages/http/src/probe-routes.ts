import type { SyncEngine } from '@sync-engine/core'
import type { Hono } from 'hono'
import { methodRoutes } from './routing/method-routes.ts'

/**
 * Liveness and readiness, open without a token (see `PUBLIC_PATHS`).
 * - `/health`: the process serves requests. It does not touch the engine: a slow or failed
 *   backend must not get a live process restarted.
 * - `/ready`: the engine is `ready` and L3 (the ground truth) answers, or the engine works around
 *   an unreachable L3 with its write-ahead log (`status: 'degraded'`, `degraded` names the tier);
 *   503 otherwise, with the same health report, so a load balancer stops routing here while the
 *   reason stays visible.
 */
export function registerProbeRoutes(app: Hono, engine: SyncEngine): void {
  methodRoutes(app, '/health', {
    GET: (c) => c.json({ status: 'ok' }, 200, { 'cache-control': 'no-store' }),
  })
  methodRoutes(app, '/ready', {
    async GET(c) {
      const health = await engine.health()
      const degraded = health.degraded.length > 0
      const ready = health.state === 'ready' && (health.l3.ok || (health.wal.configured && degraded))
      const status = !ready ? 'unavailable' : degraded ? 'degraded' : 'ready'
      return c.json({ status, ...health }, ready ? 200 : 503, { 'cache-control': 'no-store' })
    },
  })
}
