import { BackendConfigError, BackendError, InvalidArgumentError, redactUrl } from '@sync-engine/core'
import {
  MYSQL_CONNECTION_LOST,
  MYSQL_REFUSED_CONFIG,
  MYSQL_REFUSED_DATA,
  MYSQL_ROLLED_BACK,
} from '@sync-engine/core/internal'

/** What mysql2 puts on its errors (server errors carry a sqlState; network errors a code and a negative errno). */
interface DriverError {
  message?: string
  code?: string
  errno?: number
  sqlState?: string
  sqlMessage?: string
  fatal?: boolean
}

/** The connection is gone: a fresh one from the pool may work. */
const CONNECTION_LOST_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'EPIPE',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
])

/** Our own deadline passed (the connection is then destroyed: its answer may still come). */
export class DeadlineExceeded extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`)
  }
}

const driver = (error: unknown): DriverError => (typeof error === 'object' && error !== null ? error : {})

export function isRefusedData(error: unknown): boolean {
  return MYSQL_REFUSED_DATA.has(driver(error).errno ?? 0)
}

/** A permanent refusal of our configuration (credentials, database, privileges). */
export function isRefusedConfig(error: unknown): boolean {
  return MYSQL_REFUSED_CONFIG.has(driver(error).errno ?? 0)
}

/** Failures to reach the server at all: retrying at once would fail the same way. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'])

export function isConnectionLost(error: unknown): boolean {
  const { code, errno, fatal, message, sqlState } = driver(error)
  return (
    CONNECTION_LOST_CODES.has(code ?? '') ||
    MYSQL_CONNECTION_LOST.has(errno ?? 0) ||
    // mysql2, handed a pooled connection whose socket closed a moment ago
    /closed state/.test(message ?? '') ||
    // a network error (server errors carry a sqlState), other than not reaching the server
    (fatal === true && sqlState === undefined && !UNREACHABLE_CODES.has(code ?? ''))
  )
}

/** Worth running the same work again on another connection, within the deadline. */
export function isRetryable(error: unknown): boolean {
  return MYSQL_ROLLED_BACK.has(driver(error).errno ?? 0) || isConnectionLost(error)
}

/**
 * Whether a connection that raised `error` may go back to the pool: after a plain SQL error it is
 * fine; after a network error, a timeout or an oversized packet (the server hangs up) it is not.
 */
export function leavesConnectionUsable(error: unknown): boolean {
  const { errno, fatal, sqlState } = driver(error)
  return !(error instanceof DeadlineExceeded) && fatal !== true && sqlState !== undefined && errno !== 1153
}

/**
 * The driver's error as a typed one. The message names the server's complaint and code only:
 * never the SQL (with `query` it would carry the data), never the URL, never the password.
 */
export function toSyncError(error: unknown, secrets: readonly string[]): Error {
  if (error instanceof BackendError || error instanceof InvalidArgumentError) return error
  if (error instanceof DeadlineExceeded) return new BackendError('l3', `mysql: ${error.message}`)
  const { code, errno, sqlState, sqlMessage, message } = driver(error)
  let text = redactUrl(sqlMessage ?? message ?? String(error))
  for (const secret of secrets) if (secret !== '') text = text.split(secret).join('***')
  // Server errors by number and SQLSTATE: mysql2 names numbers after MySQL's list, and MariaDB's
  // own numbers (4025 is its CHECK failure) collide with MySQL's.
  const label = sqlState === undefined ? (code ?? '') : `errno ${errno}, SQLSTATE ${sqlState}`
  const safe = label === '' ? text : `${text} (${label})`
  // A cause without the SQL and the bound values, safe to log.
  const cause = Object.assign(new Error(safe), { code, errno, sqlState })
  if (isRefusedData(error)) return new InvalidArgumentError(`mysql refused the data: ${safe}`, { cause })
  if (isRefusedConfig(error))
    return new BackendConfigError('l3', `mysql refused the connection: ${safe}`, { cause })
  return new BackendError('l3', `mysql: ${safe}`, { cause })
}
