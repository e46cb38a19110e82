/**
 * The contract a Redis driver implements (ioredis over TCP, @upstash/redis over REST). The Redis
 * protocol of L2 — key layout, JSON vs binary encoding, version guards in Lua, TTL, outbox, feed —
 * is written once in the core against this, so both drivers behave alike by construction.
 */
export type RedisArgument = string | number | Uint8Array
export type RedisCommand = readonly [string, ...RedisArgument[]]
/** A reply as RESP2 gives it; bulk strings as bytes so binary values survive. Errors are values in pipelines. */
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
  /** Sends one command; a Redis error reply is thrown as `BackendError`. */
  send(command: RedisCommand): Promise<RedisReply>
  /** Sends commands in one round trip, not atomically. A per-command error is returned in place. */
  pipeline(commands: readonly RedisCommand[]): Promise<RedisReply[]>
  /** Sends commands as MULTI/EXEC: all or nothing. */
  transaction(commands: readonly RedisCommand[]): Promise<RedisReply[]>
  /** Probes the server once at connect (`MODULE LIST` / `COMMAND INFO`). */
  detectCapabilities(): Promise<RedisCapabilities>
  close(): Promise<void>
}
