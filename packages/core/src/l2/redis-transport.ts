/**
 * The contract a Redis driver implements (ioredis over TCP, @upstash/redis over REST). The Redis
 * protocol of L2 — key layout, JSON vs binary encoding, version guards in Lua, TTL, outbox, feed —
 * is written once in the core against this, so both drivers behave alike by construction.
 */
export type RedisArgument = string | number | Uint8Array
export type RedisCommand = readonly [string, ...RedisArgument[]]
/**
 * A reply as RESP2 gives it. Bulk strings arrive as bytes so binary values survive; a simple-string
 * status (`OK`, `PONG`) may arrive as a string or as bytes (drivers differ), so readers accept both.
 * Errors are values only inside `pipeline`/`transaction` results, as `RedisReplyError`.
 */
export type RedisReply = null | number | Uint8Array | string | RedisReply[] | Error

export interface RedisCapabilities {
  /** RedisJSON (`JSON.SET`) is available. */
  readonly json: boolean
  /** RediSearch (`FT.SEARCH`, dialect 2) is available. */
  readonly search: boolean
  /** Keys are spread over a cluster: multi-key commands must stay in one slot. */
  readonly cluster: boolean
}

export interface RedisTransport {
  readonly driver: string
  /**
   * Whether a command's arguments may be any bytes (default true). A transport whose wire carries
   * text only (Upstash REST: a JSON body) says false: the store then sends its binary envelopes as
   * base64, which the version guard decodes inside Redis, so every driver stores the same bytes.
   */
  readonly binarySafe?: boolean
  /**
   * Sends one command. A Redis error reply is thrown as `RedisReplyError` (its `replyCode` is the
   * server's first word, e.g. `WRONGTYPE`); a connection failure or deadline as `BackendError`.
   */
  send(command: RedisCommand): Promise<RedisReply>
  /**
   * Sends commands in one round trip, not atomically. A per-command Redis error is returned in
   * place as a `RedisReplyError`; a connection failure or deadline rejects the whole call.
   */
  pipeline(commands: readonly RedisCommand[]): Promise<RedisReply[]>
  /** Sends commands as MULTI/EXEC: all or nothing. */
  transaction(commands: readonly RedisCommand[]): Promise<RedisReply[]>
  /** Probes the server once at connect (`detectRedisCapabilities` does it over `pipeline`). */
  detectCapabilities(): Promise<RedisCapabilities>
  close(): Promise<void>
}
