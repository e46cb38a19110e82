import { BackendConfigError, BackendError, InvalidArgumentError, redactUrl } from '@sync-engine/core'
import {
  MYSQL_CONNECTION_LOST,
  MYSQL_REFUSED_CONFIG,
  MYSQL_REFUSED_DATA,
  MYSQL_ROLLED_BACK,
} from '@sync-engine/core/internal'
import { DeadlineExceeded } from './deadline.ts'

/**
 * What `@planetscale/database` throws: a `DatabaseError` with the HTTP status and Vitess's
 * `{ code, message }` body (SQL errors come with status 400 and the MySQL errno in the message,
 * `… (errno 1062) (sqlstate 23000)`), or, from fetch itself, a TypeError (network) or our abort.
 */
interface ClientError {
  message?: string
  status?: number
  body?: { code?: string; message?: string }
}

/** Vitess codes that refuse our configuration (a bad password is `UNAUTHENTICATED`, HTTP 401). */
const CONFIG_CODES = new Set(['UNAUTHENTICATED', 'PERMISSION_DENIED'])

/** Vitess's "try again": a tablet failing over, a transaction the server no longer holds. */
const RETRYABLE_CODES = new Set(['UNAVAILABLE', 'ABORTED', 'RESOURCE_EXHAUSTED'])

const client = (error: unknown): ClientError => (typeof error === 'object' && error !== null ? error : {})

function errnoOf(error: unknown): number | undefined {
  const { message, body } = client(error)
  const match = /\(errno (\d+)\)/.exec(body?.message ?? message ?? '')
  return match === null ? undefined : Number(match[1])
}

function isRefusedData(error: unknown): boolean {
  // 413: a proxy in front refused the request's size, which the same rows would exceed again.
  return MYSQL_REFUSED_DATA.has(errnoOf(error) ?? 0) || client(error).status === 413
}

function isRefusedConfig(error: unknown): boolean {
  const { status, body, message } = client(error)
  return (
    status === 401 ||
    status === 403 ||
    CONFIG_CODES.has(body?.code ?? '') ||
    MYSQL_REFUSED_CONFIG.has(errnoOf(error) ?? 0) ||
    /unknown database/i.test(body?.message ?? message ?? '')
  )
}

/** Worth sending the same work again, within the deadline: every statement of the store is idempotent. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof DeadlineExceeded || isRefusedData(error) || isRefusedConfig(error)) return false
  const { status, body } = client(error)
  const errno = errnoOf(error)
  if (errno !== undefined) return MYSQL_ROLLED_BACK.has(errno) || MYSQL_CONNECTION_LOST.has(errno)
  // fetch rejects with a TypeError when the network fails; 5xx are the proxy's, not SQL's.
  return (
    error instanceof TypeError ||
    (status !== undefined && status >= 500) ||
    RETRYABLE_CODES.has(body?.code ?? '')
  )
}

/**
 * The client's error as a typed one. The message names the server's complaint and codes only:
 * never the SQL or its values (the client formats them into the text), never the URL or password.
 */
export function toSyncError(error: unknown, secrets: readonly string[]): Error {
  if (error instanceof BackendError || error instanceof InvalidArgumentError) return error
  if (error instanceof DeadlineExceeded) return new BackendError('l3', `planetscale: ${error.message}`)
  const { status, body, message } = client(error)
  let text = redactUrl(body?.message ?? message ?? String(error))
  for (const secret of secrets) if (secret !== '') text = text.split(secret).join('***')
  const labels = [status === undefined ? '' : `HTTP ${status}`, body?.code ?? ''].filter((l) => l !== '')
  const safe = labels.length === 0 ? text : `${text} (${labels.join(', ')})`
  // A cause without the request, the response body or the bound values, safe to log.
  const cause = Object.assign(new Error(safe), { status, code: body?.code, errno: errnoOf(error) })
  if (isRefusedConfig(error)) {
    return new BackendConfigError('l3', `planetscale refused the connection: ${safe}`, { cause })
  }
  if (isRefusedData(error))
    return new InvalidArgumentError(`planetscale refused the data: ${safe}`, { cause })
  return new BackendError('l3', `planetscale: ${safe}`, { cause })
}
