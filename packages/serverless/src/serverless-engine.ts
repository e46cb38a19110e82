import { type Logger, SyncEngine } from '@sync-engine/core'
import {
  connectedWriter,
  DEFAULT_FLUSH_RESERVE_MS,
  type FlushOutboxReport,
  flushOutbox,
  PURGE_INTERVAL_MS,
  purgeL3,
  RedisOutbox,
} from '@sync-engine/core/internal'
import { createApp } from '@sync-engine/http'
import type { Hono } from 'hono'
import type { ServerlessDrivers } from './serverless-drivers.ts'
import type { ServerlessSettings } from './serverless-settings.ts'

/** The tiers of a serverless instance: L2 with its outbox, and L3. */
async function tiersFor(settings: ServerlessSettings, drivers: ServerlessDrivers) {
  const { config } = settings
  const l2 = await drivers.redis(settings.redis, {
    prefix: config.redisPrefix,
    shards: config.redisShards,
    tombstoneRetentionMs: config.tombstoneRetentionMs,
    searchProjections: config.searchBackend === 'redis',
  })
  const l3 = await drivers.sql(settings.sql, config.sqlTable)
  const outbox = new RedisOutbox(l2, { maxBytes: config.walMaxBytes })
  return { l2, l3, outbox }
}

/**
 * The engine and HTTP app of one warm instance (a Lambda execution environment, a Worker isolate):
 * L1 lives as long as the instance, bounded in staleness because other instances write the same
 * tiers; `logged` (the default) is the outbox; no timer is relied on (`maintenance: 'manual'`), so
 * a `queued` write is served as `logged`.
 */
export async function startServerlessApp(
  settings: ServerlessSettings,
  drivers: ServerlessDrivers,
  logger: Logger,
): Promise<{ engine: SyncEngine; app: Hono }> {
  const { l2, l3, outbox } = await tiersFor(settings, drivers)
  const engine = new SyncEngine({ config: settings.config, l2, l3, outbox, maintenance: 'manual', logger })
  await engine.start()
  const app = createApp({ engine, config: settings.config, logger })
  // No timer runs maintenance here: a request runs it first when there is some (a tier that was
  // unreachable at start to connect, L2 copies to reconcile), within the request, before it freezes.
  const serve = app.fetch
  app.fetch = async (request, env, executionCtx) => {
    if (engine.maintenanceDue) {
      await engine.runMaintenance().catch((error: unknown) => {
        logger.warn({ err: (error as Error)?.message }, 'maintenance before the request failed')
      })
    }
    return serve(request, env, executionCtx)
  }
  return { engine, app }
}

/** A flusher instance: one run per invocation, the writer (and its L3 breaker) kept between runs. */
export interface OutboxFlusher {
  run(remainingMs: () => number): Promise<FlushOutboxReport>
}

/**
 * The scheduled flusher's state for a warm instance: the outbox opened and checked against L3
 * once (an outbox written for another database refuses), L3 connected once.
 */
export async function startOutboxFlusher(
  settings: ServerlessSettings,
  drivers: ServerlessDrivers,
  logger: Logger,
): Promise<OutboxFlusher> {
  const { l2, l3, outbox } = await tiersFor(settings, drivers)
  await l2.init()
  const writer = await connectedWriter({ l3 }, logger)
  // A flusher never re-ties the outbox: a shard tied to another database refuses the run.
  await outbox.verify(l3.identity)
  let lastPurgeAt = 0
  return {
    async run(remainingMs) {
      const report = await flushOutbox({ outbox, l3: writer, remainingMs, logger })
      // API instances purge nothing (no timer, and a request should not pay for it): the flusher
      // turns expired rows into tombstones and drops old tombstones, at most hourly per instance.
      const now = Date.now()
      if (writer.l3 && now - lastPurgeAt >= PURGE_INTERVAL_MS && remainingMs() > DEFAULT_FLUSH_RESERVE_MS) {
        lastPurgeAt = now
        await purgeL3(writer.l3, now, settings.config.tombstoneRetentionMs, logger)
      }
      return report
    },
  }
}
