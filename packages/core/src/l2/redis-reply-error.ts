import { BackendError } from '../errors.ts'

/**
 * Redis error replies that describe the server, not the command or the key: loading, busy
 * scripts, failover, cluster down, out of memory, persistence broken. Any other reply (WRONGTYPE at
 * one corrupt key, NOSCRIPT, a syntax ERR) is about one call and must not open the circuit.
 */
const SERVER_STATE_REPLIES: ReadonlySet<string> = new Set([
  'LOADING',
  'BUSY',
  'MASTERDOWN',
  'CLUSTERDOWN',
  'TRYAGAIN',
  'READONLY',
  'MISCONF',
  'NOREPLICAS',
  'OOM',
])

/**
 * An error reply from the Redis server (`WRONGTYPE …`, `NOSCRIPT …`, `OOM …`), as opposed to a
 * connection failure. The L2 protocol acts on the code: WRONGTYPE at an item key means a corrupt
 * value, NOSCRIPT means the script cache was emptied. Server replies carry no credentials.
 */
export class RedisReplyError extends BackendError {
  /** The server's text, e.g. `WRONGTYPE Operation against a key holding the wrong kind of value`. */
  readonly reply: string

  constructor(reply: string, options?: { cause?: unknown }) {
    super('l2', `redis replied ${reply}`, options)
    this.reply = reply
  }

  /** The server's error code: the first word of the reply (`ERR`, `WRONGTYPE`, `NOSCRIPT`…). */
  get replyCode(): string {
    return this.reply.split(' ', 1)[0] ?? ''
  }

  /**
   * Whether the reply says the server is unhealthy (and so counts toward opening the circuit):
   * the L2 protocol classifies its own replies, so the generic failure policy knows nothing of Redis.
   */
  get indicatesBackendFailure(): boolean {
    return SERVER_STATE_REPLIES.has(this.replyCode) || /max number of clients/i.test(this.reply)
  }
}

export function isReplyError(value: unknown, code?: string): value is RedisReplyError {
  return value instanceof RedisReplyError && (code === undefined || value.replyCode === code)
}
