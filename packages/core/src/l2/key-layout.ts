import { ConfigError } from '../errors.ts'

export const DEFAULT_REDIS_PREFIX = 'sync:'
export const MAX_REDIS_PREFIX_LENGTH = 64

/**
 * Where things live in Redis. Every key starts with the configured prefix, then a one-letter
 * namespace: `i:` item envelopes, `j:` RedisJSON search documents, `x:` internal keys (outbox,
 * feed, digests…). An id is only ever placed after `i:` or `j:`, so no id — `x:internal` or
 * anything else — can produce an internal key (the Rust original shared one namespace).
 */
export class RedisKeyLayout {
  readonly #itemPrefix: string
  readonly #docPrefix: string
  readonly #internalPrefix: string

  constructor(readonly prefix: string = DEFAULT_REDIS_PREFIX) {
    if (prefix.length > MAX_REDIS_PREFIX_LENGTH || !prefix.isWellFormed()) {
      throw new ConfigError(
        `redisPrefix must be at most ${MAX_REDIS_PREFIX_LENGTH} characters of well-formed text`,
        ['redisPrefix'],
      )
    }
    this.#itemPrefix = `${prefix}i:`
    this.#docPrefix = `${prefix}j:`
    this.#internalPrefix = `${prefix}x:`
  }

  itemKey(id: string): string {
    return this.#itemPrefix + id
  }

  /** The RedisJSON document kept beside the envelope when the server has RedisJSON. */
  docKey(id: string): string {
    return this.#docPrefix + id
  }

  internalKey(name: string): string {
    return this.#internalPrefix + name
  }

  /** The id of an item key, or undefined for a key outside the item namespace. */
  idOfItemKey(key: string): string | undefined {
    return key.startsWith(this.#itemPrefix) ? key.slice(this.#itemPrefix.length) : undefined
  }

  /** A SCAN MATCH pattern for item keys whose id starts with `idPrefix`, both taken literally. */
  itemPattern(idPrefix: string): string {
    return `${escapeGlob(this.#itemPrefix + idPrefix)}*`
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
