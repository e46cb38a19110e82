import { problemFor, problemResponse } from '@sync-engine/http'
import type { ExecutionContext } from 'hono'
import { bootOnce } from '../boot-once.ts'
import { jsonLogger } from '../json-logger.ts'
import { type OutboxFlusher, startOutboxFlusher, startServerlessApp } from '../serverless-engine.ts'
import { serverlessSettings } from '../serverless-settings.ts'
import { workerDrivers } from './worker-drivers.ts'

/** A Worker's execution context, as Hono types it (`waitUntil`, `passThroughOnException`). */
type WorkerContext = ExecutionContext

/** The part of a scheduled event used here. */
interface ScheduledEvent {
  readonly cron: string
  readonly scheduledTime: number
}

/**
 * How long a scheduled run drains before it stops taking pages: a cron invocation may run for
 * minutes of wall time, but its CPU time is limited (30 s by default on the paid plan).
 */
const FLUSH_BUDGET_MS = 25_000

type Env = Readonly<Record<string, unknown>>
type App = Awaited<ReturnType<typeof startServerlessApp>>['app']

/**
 * Per isolate, built at the first request and kept while the isolate lives: the engine with its
 * L1, and its clients. The clients hold no I/O object between calls (every call is its own fetch,
 * awaited by the request that made it), so requests may share them.
 */
const appFor = bootOnce(async (env: Env): Promise<App> => {
  const settings = serverlessSettings(env, 'worker')
  return (await startServerlessApp(settings, workerDrivers, jsonLogger(settings.config.logLevel))).app
})

const flusherFor = bootOnce(async (env: Env): Promise<OutboxFlusher> => {
  const settings = serverlessSettings(env, 'worker', 'flusher')
  return startOutboxFlusher(settings, workerDrivers, jsonLogger(settings.config.logLevel))
})

/** The same Hono app as the Node server and Lambda; the cron trigger is the outbox flusher. */
export default {
  async fetch(request: Request, env: Env, ctx: WorkerContext): Promise<Response> {
    let served: App
    try {
      served = await appFor(env)
    } catch (error) {
      return problemResponse(problemFor(error))
    }
    return served.fetch(request, env, ctx)
  },

  async scheduled(_event: ScheduledEvent, env: Env, ctx: WorkerContext): Promise<void> {
    const started = Date.now()
    const run = flusherFor(env).then((instance) =>
      instance.run(() => FLUSH_BUDGET_MS - (Date.now() - started)),
    )
    ctx.waitUntil(run)
    await run
  },
}
