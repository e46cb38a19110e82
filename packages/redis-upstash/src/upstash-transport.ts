import {
  BackendConfigError,
  BackendError,
  detectRedisCapabilities,
  InvalidArgumentError,
  isSyncError,
  type RedisCapabilities,
  type RedisCommand,
  type RedisReply,
  type RedisTransport,
} from '@sync-engine/core/internal'
import type { UpstashRequest } from '@upstash/redis'
import { type RestClient, restClient } from './rest-client.ts'
import { fromRestEntry, type RestArgument, type RestEntry, toRestCommand } from './rest-encoding.ts'

export interface UpstashTransportOptions {
  /** The REST URL (`https://<db>.upstash.io`, or `http://127.0.0.1:<port>` for a local server). */
  url: string
  /** The REST token: sent as `Authorization: Bearer …`, never put into a message. */
  token: string
  /** Deadline of every HTTP request (one command, pipeline or transaction), in ms (default 2000). */
  commandTimeoutMs?: number
  /** Whether later calls observe earlier writes across Upstash replicas (default true). */
  readYourWrites?: boolean
}

/**
 * Refusals of our credentials: the REST API answers 401 `Unauthorized` for a wrong token, and
 * passes on Redis' own WRONGPASS/NOAUTH. The client hides the status, so the text decides.
 */
const AUTH_REFUSED = /^(Unauthorized|WRONGPASS|NOAUTH)\b|invalid (or missing )?(auth )?token/i

/** Scheme and authority; the authority (minus any user info) names the server in messages. */
const HTTP_URL = /^https?:\/\/([^\s/?#]+)\S*$/i

/** Every request asks for base64 replies: the only encoding in which bulk strings keep their bytes. */
const BASE64 = { 'Upstash-Encoding': 'base64' }

type Signal = NonNullable<UpstashRequest['signal']>
interface Controller {
  readonly signal: Signal
  abort(): void
}
/** Looked up, not declared: the build has no DOM or Node types, and every runtime we target has it. */
const AbortControllerClass = (globalThis as { AbortController?: new () => Controller }).AbortController

/**
 * `@upstash/redis` (REST over fetch) as a `RedisTransport`, for Workers and Lambda: no sockets to
 * open or keep. Every call is one POST to `/pipeline` or `/multi-exec` (a single command too: there
 * its error reply comes back in place, apart from HTTP failures). Resilience:
 * - every request has a deadline (`commandTimeoutMs`): the fetch is aborted and the call fails
 *   with a `BackendError`, even if the runtime ignores the abort;
 * - one attempt per call, no client-side retries (see rest-client.ts);
 * - a refused token is a `BackendConfigError` (not retryable); any other failure — network,
 *   deadline, an HTTP error, an answer of the wrong shape — a `BackendError`;
 * - arguments are text on the wire: bytes that are not UTF-8 are refused (`BinaryArgumentError`).
 */
export class UpstashTransport implements RedisTransport {
  readonly driver = 'upstash'
  /** The REST body is JSON: arguments travel as text, so the store sends its envelopes as base64. */
  readonly binarySafe = false
  readonly #client: RestClient
  /** The URL's host, for messages (the token is in a header, never in the URL). */
  readonly #where: string
  readonly #token: string
  readonly #timeoutMs: number
  #closed = false

  constructor(options: UpstashTransportOptions) {
    const timeoutMs = options.commandTimeoutMs ?? 2000
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
      throw new InvalidArgumentError(
        `commandTimeoutMs must be a positive whole number of ms, got ${timeoutMs}`,
      )
    }
    // A pattern, not `URL`: the build has no DOM or Node types (and no URL global to lean on).
    const url = typeof options.url === 'string' ? HTTP_URL.exec(options.url) : null
    if (url === null) throw new InvalidArgumentError('upstash: url must be an http(s) URL')
    if (typeof options.token !== 'string' || options.token.trim() === '' || /\s/.test(options.token)) {
      throw new InvalidArgumentError('upstash: token must be a non-empty string without whitespace')
    }
    this.#where = url[1]!.replace(/^.*@/, '')
    this.#token = options.token
    this.#timeoutMs = timeoutMs
    this.#client = restClient({
      url: options.url,
      token: options.token,
      readYourWrites: options.readYourWrites ?? true,
    })
  }

  /**
   * A transport whose server has answered PING: a wrong token fails here (`BackendConfigError`),
   * an unreachable server too (`BackendError`). The constructor alone does no I/O (cold starts).
   */
  static async create(options: UpstashTransportOptions): Promise<UpstashTransport> {
    const transport = new UpstashTransport(options)
    await transport.send(['PING'])
    return transport
  }

  async send(command: RedisCommand): Promise<RedisReply> {
    const [reply] = await this.#post('pipeline', [command])
    if (reply instanceof Error) throw reply
    return reply ?? null
  }

  async pipeline(commands: readonly RedisCommand[]): Promise<RedisReply[]> {
    if (commands.length === 0) return []
    return this.#post('pipeline', commands)
  }

  async transaction(commands: readonly RedisCommand[]): Promise<RedisReply[]> {
    if (commands.length === 0) return []
    return this.#post('multi-exec', commands)
  }

  detectCapabilities(): Promise<RedisCapabilities> {
    return detectRedisCapabilities(this)
  }

  /** Nothing to release (fetch owns its connections): later calls fail, calls in flight finish. */
  async close(): Promise<void> {
    this.#closed = true
  }

  async #post(path: 'pipeline' | 'multi-exec', commands: readonly RedisCommand[]): Promise<RedisReply[]> {
    if (this.#closed) throw new BackendError('l2', `upstash ${this.#where}: transport closed`)
    // Encoded (and so checked) before anything is sent.
    const body: RestArgument[][] = commands.map(toRestCommand)
    const controller = AbortControllerClass ? new AbortControllerClass() : undefined
    let timer: unknown
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller?.abort()
        reject(this.#deadlineError())
      }, this.#timeoutMs)
    })
    try {
      const request = this.#client.post({
        path: [path],
        body,
        headers: BASE64,
        ...(controller && { signal: controller.signal }),
      })
      const answer = await Promise.race([request, deadline])
      // On abort the client answers a made-up `{result: "Aborted"}` instead of failing.
      if (controller?.signal.aborted) throw this.#deadlineError()
      return this.#replies(answer, commands.length)
    } catch (error) {
      throw this.#wrap(error)
    } finally {
      clearTimeout(timer)
    }
  }

  /** The answer must be one `{result}|{error}` per command, in order. */
  #replies(answer: unknown, expected: number): RedisReply[] {
    if (!Array.isArray(answer) || answer.length !== expected) {
      throw new BackendError('l2', `upstash ${this.#where}: expected ${expected} replies, got another shape`)
    }
    return answer.map((entry: unknown) => {
      if (typeof entry !== 'object' || entry === null) {
        throw new BackendError('l2', `upstash ${this.#where}: a reply entry is not an object`)
      }
      return fromRestEntry(entry as RestEntry)
    })
  }

  #deadlineError(): BackendError {
    return new BackendError('l2', `upstash ${this.#where}: no answer within ${this.#timeoutMs} ms`)
  }

  #wrap(error: unknown): Error {
    // Already typed: the deadline, a bad answer, a refused argument.
    if (isSyncError(error)) return error
    const reason = this.#scrub(serverText(error))
    if (AUTH_REFUSED.test(reason)) {
      return new BackendConfigError('l2', `upstash ${this.#where} refused the token: ${reason}`, {
        cause: new Error(reason),
      })
    }
    return new BackendError('l2', `upstash ${this.#where}: ${reason}`, { cause: error })
  }

  #scrub(text: string): string {
    return text.split(this.#token).join('***')
  }
}

/**
 * The client's message without the request body it appends (`…, command was: [[…]]`): that holds
 * the caller's values, which have no place in an error message. A fetch failure keeps its cause.
 */
function serverText(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const message = error.message.split(', command was: ')[0] ?? error.message
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : ''
  return `${message}${cause}`
}
