import { BackendError } from '../errors.ts'

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
}

export function isReplyError(value: unknown, code?: string): value is RedisReplyError {
  return value instanceof RedisReplyError && (code === undefined || value.replyCode === code)
}
