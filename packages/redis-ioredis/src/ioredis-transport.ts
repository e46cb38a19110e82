import {
  BackendConfigError,
  BackendError,
  detectRedisCapabilities,
  InvalidArgumentError,
  type RedisCapabilities,
  type RedisCommand,
  type RedisReply,
  RedisReplyError,
  type RedisTransport,
  redactUrl,
} from '@sync-engine/core/internal'
import { type ChainableCommander, Redis, type RedisOptions } from 'ioredis'

export interface IoredisTransportOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://…`. */
  url?: string
  /** Further ioredis options (host, port, password, tls…); the resilience settings below win. */
  redis?: RedisOptions
  /** Deadline of every command, in ms (default 2000). */
  commandTimeoutMs?: number
  /** Deadline of the TCP connect and handshake, in ms (default 2000). */
  connectTimeoutMs?: number
  /** Calls allowed to wait while disconnected; beyond it a call fails at once (default 1000). */
  maxOfflineCalls?: number
  /** Ceiling of the reconnect backoff, in ms (default 2000). */
  maxReconnectDelayMs?: number
  /** Connection errors, for logs (the message carries host and port, never credentials). */
  onError?: (error: Error) => void
  /**
   * Whether `create` waits for the server (default true): then an unreachable server fails
   * `create`. With false, `create` returns at once and ioredis connects, and keeps reconnecting,
   * in the background; until the server answers, calls fail within their deadline (or at once when
   * the offline queue is full). A server that refuses the credentials fails every call with a
   * `BackendConfigError` either way.
   */
  waitForConnect?: boolean
}

/**
 * Server replies that refuse our credentials (Redis 6+ ACL, older `requirepass`, a password the
 * server needs and we did not send). Reconnecting cannot fix them: the configuration must change.
 */
const AUTH_REFUSED = /WRONGPASS|NOAUTH|invalid password|invalid username-password|ERR AUTH/i

const DEFAULTS = {
  commandTimeoutMs: 2000,
  connectTimeoutMs: 2000,
  maxOfflineCalls: 1000,
  maxReconnectDelayMs: 2000,
}

/**
 * ioredis as a `RedisTransport`. Replies come as Buffers (callBuffer), handed on as Uint8Array
 * views without copying, so binary values survive. Resilience:
 * - every command has a deadline (`commandTimeout`), queued ones included;
 * - while disconnected, calls wait in ioredis' offline queue up to `maxOfflineCalls`, then fail at
 *   once: an outage costs the caller a bounded wait, never an unbounded queue;
 * - `maxRetriesPerRequest: 1` stops ioredis resending a command across several reconnects
 *   (the L2 protocol's retries are the engine's business, and its writes are idempotent);
 * - reconnects back off exponentially with jitter up to a ceiling: no reconnect storm;
 * - a refused password (WRONGPASS, NOAUTH…) is a `BackendConfigError`, not a transient failure:
 *   while the server refuses it, calls fail with it at once.
 */
export class IoredisTransport implements RedisTransport {
  readonly driver = 'ioredis'
  readonly #redis: Redis
  /** host:port, for messages: never the URL, which may carry a password. */
  readonly #where: string
  readonly #maxOfflineCalls: number
  #pending = 0
  #closed = false
  /** The last connection error ioredis reported: says why a call or a connect failed. */
  #lastError: Error | undefined
  /** Set while the server refuses our credentials (until a connection is ready again). */
  #authRefused: BackendConfigError | undefined
  /** Strings that must never appear in a message: the password, as given and percent-encoded. */
  readonly #secrets: readonly string[]

  private constructor(options: IoredisTransportOptions) {
    const settings = { ...DEFAULTS, ...definedOnly(options) }
    // Every backend call has a deadline: ioredis reads 0 as "time out at once", and no deadline
    // is not an option here, so anything but a positive whole number is refused up front.
    for (const field of ['commandTimeoutMs', 'connectTimeoutMs', 'maxReconnectDelayMs'] as const) {
      if (!Number.isSafeInteger(settings[field]) || settings[field] <= 0) {
        throw new InvalidArgumentError(
          `${field} must be a positive whole number of ms, got ${settings[field]}`,
        )
      }
    }
    const cap = settings.maxReconnectDelayMs
    const resilience: RedisOptions = {
      lazyConnect: true,
      commandTimeout: settings.commandTimeoutMs,
      connectTimeout: settings.connectTimeoutMs,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
      enableAutoPipelining: false,
      retryStrategy: (attempt) =>
        Math.round(Math.min(cap, 50 * 2 ** Math.min(attempt, 16)) * (0.5 + Math.random() / 2)),
    }
    this.#redis = options.url
      ? new Redis(options.url, { ...options.redis, ...resilience })
      : new Redis({ ...options.redis, ...resilience })
    this.#where = `${this.#redis.options.host ?? '?'}:${this.#redis.options.port ?? '?'}`
    this.#maxOfflineCalls = settings.maxOfflineCalls
    const password = this.#redis.options.password ?? ''
    this.#secrets = password === '' ? [] : [password, encodeURIComponent(password)]
    // Without a listener ioredis prints every connection error to the console.
    this.#redis.on('error', (error: Error) => {
      this.#lastError = error
      if (isAuthRefusal(error)) this.#authRefused = this.#refusal(error)
      options.onError?.(error)
    })
    this.#redis.on('ready', () => {
      this.#authRefused = undefined
    })
  }

  /**
   * Connects, and resolves once the server is ready. The connection is opened here (lazyConnect
   * with an awaited connect), so a wrong URL or a down server fails `create`, not the first call
   * (a refused password with a `BackendConfigError`). With `waitForConnect: false` it resolves at
   * once instead, and the connection comes up in the background (see the option).
   */
  static async create(options: IoredisTransportOptions | string): Promise<IoredisTransport> {
    const settings = typeof options === 'string' ? { url: options } : options
    const transport = new IoredisTransport(settings)
    if (settings.waitForConnect === false) {
      // ioredis reconnects on its own after a failed first connect (retryStrategy); the failure
      // itself reaches the 'error' listener, and callers through their calls.
      transport.#redis.connect().catch(() => {})
      return transport
    }
    try {
      await transport.#redis.connect()
    } catch (error) {
      transport.#redis.disconnect()
      const target = settings.url === undefined ? transport.#where : redactUrl(settings.url)
      const cause = transport.#lastError ?? error
      const reason = transport.#scrub(safeMessage(cause))
      if (isAuthRefusal(cause)) {
        throw new BackendConfigError('l2', `ioredis: ${target} refused the credentials: ${reason}`, {
          cause: new Error(reason),
        })
      }
      throw new BackendError('l2', `ioredis: cannot connect to ${target}: ${reason}`, { cause: error })
    }
    return transport
  }

  /** ioredis' connection status (`ready`, `reconnecting`, `end`…), for health reports. */
  get status(): string {
    return this.#redis.status
  }

  async send(command: RedisCommand): Promise<RedisReply> {
    const [name, ...args] = command
    return this.#admit(async () => {
      try {
        return fromIoredis(await this.#redis.callBuffer(name, ...args.map(toIoredis)))
      } catch (error) {
        throw this.#wrap(error)
      }
    })
  }

  async pipeline(commands: readonly RedisCommand[]): Promise<RedisReply[]> {
    if (commands.length === 0) return []
    return this.#admit(() => this.#exec(this.#redis.pipeline(), commands))
  }

  async transaction(commands: readonly RedisCommand[]): Promise<RedisReply[]> {
    if (commands.length === 0) return []
    return this.#admit(() => this.#exec(this.#redis.multi(), commands))
  }

  detectCapabilities(): Promise<RedisCapabilities> {
    return detectRedisCapabilities(this)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#redis.status === 'ready') {
      try {
        await this.#redis.quit()
        return
      } catch {
        // QUIT did not get through within the deadline: drop the socket instead.
      }
    }
    this.#redis.disconnect()
  }

  async #exec(batch: ChainableCommander, commands: readonly RedisCommand[]): Promise<RedisReply[]> {
    for (const [name, ...args] of commands) batch.callBuffer(name, ...args.map(toIoredis))
    let results: [Error | null, unknown][] | null
    try {
      results = await batch.exec()
    } catch (error) {
      throw this.#wrap(error)
    }
    if (results === null) throw new BackendError('l2', 'ioredis: transaction aborted')
    return results.map(([error, value]) => {
      if (error === null) return fromIoredis(value)
      // A refused password fails every command of the batch: the whole call fails with it.
      if (isAuthRefusal(error)) throw this.#wrap(error)
      // A server error reply stays in place; a lost connection or a deadline fails the whole call.
      if (isServerReply(error)) return new RedisReplyError(error.message, { cause: error })
      throw this.#wrap(error)
    })
  }

  /** Fails at once when closed, or when disconnected with the offline queue already full. */
  async #admit<T>(run: () => Promise<T>): Promise<T> {
    if (this.#closed || this.#redis.status === 'end') {
      throw new BackendError('l2', `ioredis ${this.#where}: connection closed`)
    }
    // Waiting for the next reconnect would only get the same refusal.
    if (this.#authRefused && this.#redis.status !== 'ready') throw this.#authRefused
    if (this.#redis.status !== 'ready' && this.#pending >= this.#maxOfflineCalls) {
      throw new BackendError(
        'l2',
        `ioredis ${this.#where}: not connected (${this.#redis.status}); ${this.#pending} calls already waiting`,
      )
    }
    this.#pending++
    try {
      return await run()
    } finally {
      this.#pending--
    }
  }

  #wrap(error: unknown): BackendError {
    if (error instanceof BackendError) return error
    if (isAuthRefusal(error)) return this.#refusal(error)
    // A command flushed after a failed reconnect whose reason was a refused password.
    if (this.#authRefused && isAuthRefusal(this.#lastError)) return this.#authRefused
    if (isServerReply(error)) return new RedisReplyError(this.#scrub(error.message), { cause: error })
    // ioredis' own wording ("Reached the max retries per request limit…") hides the cause.
    const reason =
      error instanceof Error && error.name === 'MaxRetriesPerRequestError'
        ? `connection lost, reconnect failed${this.#lastError ? ` (${safeMessage(this.#lastError)})` : ''}`
        : safeMessage(error)
    return new BackendError('l2', `ioredis ${this.#where}: ${this.#scrub(reason)}`, { cause: error })
  }

  /** A refused password as a permanent error; its message and cause never carry the password. */
  #refusal(error: unknown): BackendConfigError {
    const reason = this.#scrub(safeMessage(error))
    return new BackendConfigError('l2', `ioredis ${this.#where} refused the credentials: ${reason}`, {
      cause: new Error(reason),
    })
  }

  #scrub(text: string): string {
    let safe = text
    for (const secret of this.#secrets) safe = safe.split(secret).join('***')
    return safe
  }
}

/** Whether `error` says the server refused our credentials (see AUTH_REFUSED). */
function isAuthRefusal(error: unknown): boolean {
  return error instanceof Error && AUTH_REFUSED.test(error.message)
}

type IoredisArgument = string | number | Buffer

function toIoredis(argument: string | number | Uint8Array): IoredisArgument {
  if (typeof argument === 'string' || typeof argument === 'number') return argument
  return Buffer.isBuffer(argument)
    ? argument
    : Buffer.from(argument.buffer, argument.byteOffset, argument.byteLength)
}

/** Buffers become Uint8Array views (no copy; the core copies what it keeps), recursively. */
function fromIoredis(value: unknown): RedisReply {
  if (value === null || value === undefined) return null
  if (Buffer.isBuffer(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  if (typeof value === 'number' || typeof value === 'string') return value
  if (Array.isArray(value)) return value.map(fromIoredis)
  if (value instanceof Error) return isServerReply(value) ? new RedisReplyError(value.message) : value
  return String(value)
}

/** redis-errors' ReplyError: an error reply from the server (not a client-side failure). */
function isServerReply(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError'
}

/** A driver message with anything URL-like redacted, in case a driver ever echoes its URL. */
function safeMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s]*/gi, (url) => redactUrl(url))
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>
}
