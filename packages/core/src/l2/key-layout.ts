import { ConfigError } from '../errors.ts'
import { IdHasher } from '../filter/id-hash.ts'

export const DEFAULT_REDIS_PREFIX = 'sync:'
export const MAX_REDIS_PREFIX_LENGTH = 64
/** Shards of the key space (and of the outbox) when none are configured. */
export const DEFAULT_REDIS_SHARDS = 16
export const MAX_REDIS_SHARDS = 1024

/** A fixed seed: every instance, on every runtime, must put an id in the same shard. */
const SHARD_SEED = 0x5e1f_0b0c

/**
 * Where things live in Redis. Every key starts with the configured prefix. Item keys then carry
 * the hash tag of their id's shard, `{s}`, and a one-letter namespace: `{s}i:` item envelopes,
 * `{s}j:` RedisJSON search documents, `{s}h:` search projection hashes (a query engine without
 * RedisJSON), `{s}x:` the shard's internal keys (its outbox). Keys of the whole layout (not of one
 * shard) are `x:` internal keys. An id is only ever placed after `i:`, `j:` or `h:`, so no id —
 * `x:internal` or anything else — can produce an internal key.
 *
 * Why the tag: an item and its outbox shard are written by one script, and on a Redis Cluster a
 * script may only touch keys of one slot; keys with the same `{…}` share a slot. The shard is a
 * hash of the id modulo `shards`, so every instance over one Redis must use the same `shards`
 * (changing it moves every item key: drain the outbox first; L2 then starts cold).
 */
export class RedisKeyLayout {
  readonly #internalPrefix: string
  /** Per shard: `prefix{s}`, the start of each of its keys. */
  readonly #shardPrefixes: readonly string[]
  readonly #hasher = new IdHasher(SHARD_SEED)
  readonly #shardPattern: RegExp

  constructor(
    readonly prefix: string = DEFAULT_REDIS_PREFIX,
    readonly shards: number = DEFAULT_REDIS_SHARDS,
  ) {
    if (prefix.length > MAX_REDIS_PREFIX_LENGTH || !prefix.isWellFormed() || /[{}]/.test(prefix)) {
      throw new ConfigError(
        `redisPrefix must be at most ${MAX_REDIS_PREFIX_LENGTH} characters of well-formed text without { or }`,
        ['redisPrefix'],
      )
    }
    if (!Number.isSafeInteger(shards) || shards < 1 || shards > MAX_REDIS_SHARDS) {
      throw new ConfigError(`redisShards must be an integer from 1 to ${MAX_REDIS_SHARDS}, got ${shards}`, [
        'redisShards',
      ])
    }
    this.#internalPrefix = `${prefix}x:`
    this.#shardPrefixes = Array.from({ length: shards }, (_, shard) => `${prefix}{${shard}}`)
    this.#shardPattern = /^\{(\d{1,4})\}i:/
  }

  /** The shard of an id: the same on every instance and runtime for the same `shards`. */
  shardOf(id: string): number {
    this.#hasher.hash(id)
    return (this.#hasher.hi >>> 0) % this.shards
  }

  itemKey(id: string): string {
    return `${this.#shardPrefixes[this.shardOf(id)]}i:${id}`
  }

  /** The RedisJSON document kept beside the envelope when the server has RedisJSON. */
  docKey(id: string): string {
    return `${this.#shardPrefixes[this.shardOf(id)]}j:${id}`
  }

  /** The search projection hash kept beside the envelope when the server has search but not RedisJSON. */
  searchHashKey(id: string): string {
    return `${this.#shardPrefixes[this.shardOf(id)]}h:${id}`
  }

  /** An internal key of the whole layout (no hash tag). */
  internalKey(name: string): string {
    return this.#internalPrefix + name
  }

  /** An internal key of one shard: in the slot of that shard's item keys. */
  shardKey(shard: number, name: string): string {
    const start = this.#shardPrefixes[shard]
    if (start === undefined) throw new RangeError(`shard ${shard} is not in 0..${this.shards - 1}`)
    return `${start}x:${name}`
  }

  /** The id of an item key, or undefined for a key outside the item namespace or another layout's. */
  idOfItemKey(key: string): string | undefined {
    if (!key.startsWith(this.prefix)) return undefined
    const match = this.#shardPattern.exec(key.slice(this.prefix.length))
    if (match === null) return undefined
    const id = key.slice(this.prefix.length + match[0].length)
    // A key of another shard count, or forged: not ours.
    return Number(match[1]) === this.shardOf(id) ? id : undefined
  }

  /**
   * A SCAN MATCH pattern for item keys whose id starts with `idPrefix`, taken literally. It may
   * also match keys that are not item keys of this layout: `idOfItemKey` has the last word.
   */
  itemPattern(idPrefix: string): string {
    return `${escapeGlob(this.prefix)}{*}i:${escapeGlob(idPrefix)}*`
  }

  /** A SCAN MATCH pattern for every key of this layout, all namespaces (test cleanup, admin). */
  everythingPattern(): string {
    return `${escapeGlob(this.prefix)}*`
  }
}

/** Escapes Redis glob metacharacters (`* ? [ ] \`) so a pattern matches the text literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
