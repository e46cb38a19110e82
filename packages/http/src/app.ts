import { type Logger, NotFoundError, type SyncConfig, type SyncEngine, silentLogger } from '@sync-engine/core'
import { Hono } from 'hono'
import { registerAdminRoutes } from './admin-routes.ts'
import { requireBearer } from './auth/bearer-auth.ts'
import { registerBatchRoutes } from './batch/batch-routes.ts'
import { registerItemRoutes } from './items/item-routes.ts'
import { logRequests, type RequestLineSink } from './middleware/request-log.ts'
import { registerPartitionRoutes } from './partitions/partition-routes.ts'
import { registerProbeRoutes } from './probe-routes.ts'
import { problemFor, problemResponse } from './problems/problem-details.ts'
import { RequestScopes } from './request-scope.ts'
import { wrapFetch } from './routing/fetch-chain.ts'
import { answerUnrouted } from './routing/method-routes.ts'
import { registerSearchRoutes } from './search/search-routes.ts'

export interface AppOptions {
  /** A started engine (or one that will be: requests before `ready` answer 503 `engine-state`). */
  engine: SyncEngine
  /** `apiTokens` is read here; body limits follow the engine's live `maxPayloadBytes`. */
  config: Pick<SyncConfig, 'apiTokens'>
  /** pino or anything with its call shape. Default: silent. */
  logger?: Logger
  /** Where `info` request lines go instead of `logger.info` (the Node server batches them). */
  requestLines?: RequestLineSink
}

/**
 * The HTTP API as a Hono app, runtime-agnostic: the Node entry serves it with
 * `@hono/node-server`; other runtimes can mount `app.fetch` as is.
 */
export function createApp(options: AppOptions): Hono {
  const { engine, config } = options
  const logger = options.logger ?? silentLogger
  const app = new Hono()

  registerProbeRoutes(app, engine)
  const scopes = new RequestScopes()
  registerItemRoutes(app, engine, scopes)
  registerBatchRoutes(app, engine, scopes)
  registerAdminRoutes(app, engine)
  registerSearchRoutes(app, engine)
  registerPartitionRoutes(app, engine)
  answerUnrouted(app, (c) =>
    problemResponse(problemFor(new NotFoundError(`no route for ${c.req.method} ${c.req.path}`))),
  )
  app.onError((error, c) => {
    const answer = problemFor(error)
    if (answer.internal) {
      logger.error(
        { err: describeError(error), method: c.req.method, path: c.req.path, status: answer.problem.status },
        'request failed with a server error',
      )
    }
    return problemResponse(answer)
  })
  // Order matters: log every request (refused ones too), then authenticate before any body is read.
  wrapFetch(app, [logRequests(logger, options.requestLines), requireBearer(config.apiTokens), scopes.wrapper])
  return app
}

/** Name, message and stack for the log (never the request: its headers carry the token). */
function describeError(error: unknown): { name: string; message: string; stack?: string } {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack }
  return { name: typeof error, message: String(error) }
}
