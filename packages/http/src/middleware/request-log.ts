import { type Logger, silentLogger } from '@sync-engine/core'
import type { FetchWrapper } from '../routing/fetch-chain.ts'
import { rawPath } from '../routing/raw-path.ts'

/** pino's level names, lowest first (`silent` logs nothing). */
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
const INFO = LEVELS.indexOf('info')

/** What a pino logger offers besides the core's `Logger` shape (optional: any logger fits). */
interface LevelAware {
  isLevelEnabled?: (level: string) => boolean
  level?: unknown
}

/**
 * Whether `logger` would write an `info` line now. Asked per request, since the level can change
 * live (`engine.reconfigure({ logLevel })` sets `logger.level`); both ways are a property read and
 * a comparison. A logger that says nothing of its level is assumed to log `info` (but the core's
 * `silentLogger` logs nothing).
 */
export function logsInfo(logger: Logger): boolean {
  if (logger === silentLogger) return false
  const aware = logger as LevelAware
  if (typeof aware.isLevelEnabled === 'function') return aware.isLevelEnabled('info')
  if (typeof aware.level === 'string') {
    const index = LEVELS.indexOf(aware.level as (typeof LEVELS)[number])
    return index === -1 || index <= INFO
  }
  return true
}

/** What one request line holds. */
export interface RequestLine {
  readonly method: string
  /** As sent, without the query. */
  readonly path: string
  readonly status: number
  readonly durationMs: number
}

/** Where the `info` request lines go instead of `logger.info(line, 'request')` (e.g. a batcher). */
export type RequestLineSink = (line: RequestLine) => void

/**
 * One log line per request: method, path (as sent, without the query), status and duration (ms).
 * Headers are never logged (the Authorization header carries a token), nor the query string or
 * body. A 5xx is always logged (at `error`); any other request only when the logger logs `info`,
 * and when it does not, the request costs one clock read and nothing is allocated for the line.
 * Outermost around the app's fetch, so requests refused by auth are logged too.
 */
export function logRequests(logger: Logger, sink?: RequestLineSink): FetchWrapper {
  const info: RequestLineSink = sink ?? ((line) => logger.info(line, 'request'))
  const logLine = (request: Request, status: number, started: number): void => {
    const failed = status >= 500
    if (!failed && !logsInfo(logger)) return
    const line = {
      method: request.method,
      path: rawPath(request.url),
      status,
      durationMs: Date.now() - started,
    }
    if (failed) logger.error(line, 'request failed')
    else info(line)
  }
  return (next) => (request, env, executionCtx) => {
    const started = Date.now()
    const response = next(request, env, executionCtx)
    if (response instanceof Promise) {
      return response.then((answered) => {
        logLine(request, answered.status, started)
        return answered
      })
    }
    logLine(request, response.status, started)
    return response
  }
}
