import { BackendError, ConfigError, InvalidArgumentError, isSyncError } from '../errors.ts'
import type { RecordHead } from '../l3/stored-record.ts'
import { validateTtl } from '../options/cache-ttl.ts'
import { CorruptValue } from './corrupt-value.ts'
import { decodeEnvelope, decodeEnvelopeHead, ENVELOPE_HEAD_BYTES, encodeEnvelope } from './envelope.ts'
import { jsonDocumentBytes, jsonDocumentScript } from './json-document.ts'
import { DEFAULT_REDIS_PREFIX, RedisKeyLayout } from './key-layout.ts'
import type { L2ScanPage, L2Store, L2Value, L2WriteEntry, L2WriteResult } from './l2-store.ts'
import { replyArray, replyInteger, replyText, throwIfError } from './redis-reply.ts'
import { isReplyError } from './redis-reply-error.ts'
import type {
  RedisArgument,
  RedisCapabilities,
  RedisCommand,
  RedisReply,
  RedisTransport,
} from './redis-transport.ts'
import { type ScriptCall, ScriptRunner } from './script-runner.ts'
import { searchHashArguments, searchHashScript } from './search-hash.ts'
import { envelopeForTextWire } from './text-wire.ts'
import {
  conflictVersion,
  GUARD_REPLACED_LIVE,
  GUARD_STALE,
  GUARD_WRITTEN,
  versionGuardBatchScript,
  versionGuardBatchScriptText,
  versionGuardScript,
  versionGuardScriptText,
} from './version-guard-script.ts'

export const DEFAULT_TOMBSTONE_RETENTION_MS = 7 * 86_400_000
const DEFAULT_SCAN_COUNT = 1000
const DEFAULT_SCAN_LIMIT = 1000
/**
 * Guarded writes per batched script call, and the envelope bytes one call may carry: Redis runs a
 * script without serving anyone else, so a call stays short (a few hundred keys, ~1 ms).
 */
const GUARD_BATCH_KEYS = 256
const GUARD_BATCH_BYTES = 1024 * 1024

export interface RedisStoreOptions {
  /** Prefix of every key (default `sync:`). */
  prefix?: string
  /** Shards of the key space: the hash tags of item keys (default 16; the same on every instance). */
  shards?: number
  /** TTL of tombstones in L2, in ms (default 7 days, like `tombstoneRetentionMs`). */
  tombstoneRetentionMs?: number
  /**
   * Overrides detection: `{ cluster: true }` for a cluster transport, `{ json: false }` to keep
   * search projection hashes instead of documents, `{ json: false, search: false }` to keep neither.
   */
  capabilities?: Partial<RedisCapabilities>
  /** SCAN's COUNT hint: keys the server visits per step. */
  scanCount?: number
  /**
   * Keep a search projection beside each envelope (a RedisJSON document, else a hash where the
   * server has the query engine): what `searchBackend: 'redis'` searches. Off by default: it is one
   * more script per write, of no use to searches answered by SQL.
   */
  searchProjections?: boolean
}

/**
 * L2 written once over a `RedisTransport`: the key layout, the envelope encoding, the Lua version
 * guard, TTLs and the one-round-trip batch paths. Every command names one key, except MGET, EXISTS
 * and UNLINK over many keys, which are used only when the server is not a cluster.
 */
export class RedisStore implements L2Store {
  readonly keys: RedisKeyLayout
  #capabilities: RedisCapabilities
  readonly #overrides: Partial<RedisCapabilities>
  readonly #tombstoneTtlMs: number
  readonly #scanCount: number
  /** Whether writes keep a search projection (where the server can index one). */
  readonly searchProjections: boolean
  /** Runs this store's scripts, and those of the parts kept beside it in L2 (the outbox). */
  readonly scripts: ScriptRunner

  constructor(
    private readonly transport: RedisTransport,
    options: RedisStoreOptions = {},
  ) {
    this.keys = new RedisKeyLayout(options.prefix ?? DEFAULT_REDIS_PREFIX, options.shards)
    this.#tombstoneTtlMs = options.tombstoneRetentionMs ?? DEFAULT_TOMBSTONE_RETENTION_MS
    validateTtl(this.#tombstoneTtlMs)
    this.#scanCount = options.scanCount ?? DEFAULT_SCAN_COUNT
    if (!Number.isSafeInteger(this.#scanCount) || this.#scanCount <= 0) {
      throw new InvalidArgumentError(`scanCount must be a positive integer, got ${this.#scanCount}`)
    }
    this.searchProjections = options.searchProjections === true
    this.#overrides = options.capabilities ?? {}
    this.#capabilities = { json: false, search: false, cluster: false, ...this.#overrides }
    this.scripts = new ScriptRunner((commands) => this.#pipeline(commands))
  }

  /** Creates the store and detects the server's capabilities. */
  static async open(transport: RedisTransport, options?: RedisStoreOptions): Promise<RedisStore> {
    const store = new RedisStore(transport, options)
    await store.init()
    return store
  }

  get driver(): string {
    return this.transport.driver
  }

  get capabilities(): RedisCapabilities {
    return this.#capabilities
  }

  async init(): Promise<void> {
    const detected = await this.#call(() => this.transport.detectCapabilities())
    this.#capabilities = { ...detected, ...this.#overrides }
    await this.#checkLayout()
  }

  /**
   * Every instance over one prefix must put an id in the same shard, or they read and write
   * different keys (and a flusher misses shards): the first to start records the shard count,
   * the others must match it.
   */
  async #checkLayout(): Promise<void> {
    const key = this.keys.internalKey('layout')
    const mine = `shards=${this.keys.shards}`
    const [, held] = await this.#pipeline([
      ['SET', key, mine, 'NX'],
      ['GET', key],
    ])
    const recorded = held === null || held === undefined ? mine : replyText(throwIfErrorReply(held), 'GET')
    if (recorded !== mine) {
      throw new ConfigError(
        `Redis prefix ${JSON.stringify(this.keys.prefix)} is laid out with ${recorded.replace('shards=', '')} shards, this instance with ${this.keys.shards}: set redisShards (SYNC_REDIS_SHARDS) to match (changing it needs an empty outbox and a fresh prefix)`,
        ['redisShards'],
      )
    }
  }

  async write(entries: readonly L2WriteEntry[]): Promise<L2WriteResult> {
    if (entries.length === 0) return { applied: 0, stale: [] }
    // Encode (and so validate) everything before sending anything.
    const calls = this.#guardCalls(entries)
    const guardCalls = calls.length
    // A conditional write's projection follows the envelope once its condition held (the next write).
    for (const entry of entries) {
      const call = entry.ifVersion === undefined ? this.#searchProjectionCall(entry) : undefined
      if (call !== undefined) calls.push(call)
    }
    const replies = await this.#runScripts(calls)
    // One reply per key: a batched call answers an array, in key order.
    const guardReplies: RedisReply[] = []
    for (let index = 0; index < guardCalls; index++) {
      const reply = replies[index] ?? null
      const script = calls[index]!.script
      if (script === versionGuardScript || script === versionGuardScriptText) guardReplies.push(reply)
      else guardReplies.push(...replyArray(reply, 'the batched version guard'))
    }
    const stale: string[] = []
    const replacedLive: string[] = []
    let conflicts: Map<string, number> | undefined
    let applied = 0
    entries.forEach((entry, index) => {
      const reply = replyInteger(guardReplies[index] ?? null, 'the version guard')
      if (reply === GUARD_WRITTEN) applied++
      else if (reply === GUARD_REPLACED_LIVE) {
        applied++
        replacedLive.push(entry.record.id)
      } else if (reply === GUARD_STALE) stale.push(entry.record.id)
      else {
        const current = conflictVersion(reply)
        if (current !== undefined) {
          conflicts ??= new Map()
          conflicts.set(entry.record.id, current)
        }
      }
    })
    return {
      applied,
      stale,
      ...(replacedLive.length > 0 && { replacedLive }),
      ...(conflicts && { conflicts }),
    }
  }

  /**
   * The search projection kept beside an envelope: a RedisJSON document (json-document.ts), else,
   * when the query engine is there without RedisJSON, a hash (search-hash.ts); else nothing.
   */
  #searchProjectionCall(entry: L2WriteEntry): ScriptCall | undefined {
    const { record } = entry
    if (!this.searchProjections) return undefined
    if (this.#capabilities.json) {
      return {
        script: jsonDocumentScript,
        keys: [this.keys.docKey(record.id)],
        args: [record.version, jsonDocumentBytes(record), this.ttlOf(entry), entry.repair ? 1 : 0],
      }
    }
    if (!this.#capabilities.search) return undefined
    return {
      script: searchHashScript,
      keys: [this.keys.searchHashKey(record.id)],
      args: searchHashArguments(record, this.ttlOf(entry), entry.repair === true),
    }
  }

  /**
   * The guarded writes of `entries`, in entry order: one script call per key on a cluster (a script
   * may only touch keys of one slot), else batched calls of up to `GUARD_BATCH_KEYS` keys.
   */
  #guardCalls(entries: readonly L2WriteEntry[]): ScriptCall[] {
    const calls: ScriptCall[] = []
    let keys: string[] = []
    let args: RedisArgument[] = []
    let bytes = 0
    // A text-only wire gets the envelopes as text (text-wire.ts; the guard decodes them inside Redis).
    const asText = this.transport.binarySafe === false
    const [one, many] = asText
      ? [versionGuardScriptText, versionGuardBatchScriptText]
      : [versionGuardScript, versionGuardBatchScript]
    const close = () => {
      if (keys.length === 0) return
      calls.push({ script: keys.length === 1 ? one : many, keys, args })
      keys = []
      args = []
      bytes = 0
    }
    for (const entry of entries) {
      const encoded = encodeEnvelope(entry.record)
      const envelope = asText ? envelopeForTextWire(encoded, entry.record.contentType === 'json') : encoded
      const length = asText ? envelope.length : encoded.byteLength
      if (bytes + length > GUARD_BATCH_BYTES) close()
      keys.push(this.keys.itemKey(entry.record.id))
      args.push(
        entry.record.version,
        envelope,
        this.ttlOf(entry),
        entry.repair ? 1 : 0,
        entry.ifVersion === undefined ? '' : entry.ifVersion,
      )
      bytes += length
      if (this.#capabilities.cluster || keys.length === GUARD_BATCH_KEYS) close()
    }
    close()
    return calls
  }

  async read(ids: readonly string[]): Promise<Map<string, L2Value>> {
    const found = new Map<string, L2Value>()
    // One id (the common `get`): no de-duplication to do.
    if (ids.length === 1) {
      await this.#getOne(ids[0]!, found)
      return found
    }
    const unique = [...new Set(ids)]
    if (unique.length === 1) await this.#getOne(unique[0]!, found)
    else if (unique.length > 1 && this.#capabilities.cluster) await this.#getEach(unique, found)
    else if (unique.length > 1) await this.#mget(unique, found)
    return found
  }

  /**
   * The head of each value (GETRANGE of its first bytes, with STRLEN to check its length), in one
   * round trip: existence without transferring content. Single-key commands, so cluster-safe.
   */
  async head(ids: readonly string[]): Promise<Map<string, RecordHead | CorruptValue>> {
    const unique = [...new Set(ids)]
    const found = new Map<string, RecordHead | CorruptValue>()
    if (unique.length === 0) return found
    const commands: RedisCommand[] = []
    for (const id of unique) {
      const key = this.keys.itemKey(id)
      commands.push(['GETRANGE', key, 0, ENVELOPE_HEAD_BYTES - 1], ['STRLEN', key])
    }
    const replies = await this.#pipeline(commands)
    unique.forEach((id, index) => {
      const head = replies[2 * index] ?? null
      const length = replies[2 * index + 1] ?? null
      if (isReplyError(head, 'WRONGTYPE') || isReplyError(length, 'WRONGTYPE')) {
        found.set(id, new CorruptValue(id, 'the item key holds another Redis type (WRONGTYPE)'))
        return
      }
      const size = replyInteger(length, 'STRLEN')
      if (size === 0) return
      const bytes = typeof head === 'string' ? new TextEncoder().encode(head) : head
      if (!(bytes instanceof Uint8Array)) {
        throwIfError(head)
        return
      }
      found.set(id, decodeEnvelopeHead(id, bytes, size))
    })
    return found
  }

  /** One id, one command, one round trip: the envelope carries all the metadata. */
  async #getOne(id: string, found: Map<string, L2Value>): Promise<void> {
    let reply: RedisReply
    try {
      reply = await this.#call(() => this.transport.send(['GET', this.keys.itemKey(id)]))
    } catch (error) {
      if (!isReplyError(error, 'WRONGTYPE')) throw error
      reply = error
    }
    collect(found, id, reply)
  }

  /**
   * MGET for speed, with EXISTS over the same keys in the same round trip: MGET answers nil for a
   * key holding a list or hash, and only the counts differing tells us to look closer — with GETs
   * that report WRONGTYPE. That second round trip happens only for corruption, or when a key
   * appeared between the two commands.
   */
  async #mget(ids: readonly string[], found: Map<string, L2Value>): Promise<void> {
    const keys = ids.map((id) => this.keys.itemKey(id))
    const [values, exists] = await this.#pipeline([
      ['MGET', ...keys],
      ['EXISTS', ...keys],
    ])
    const list = replyArray(values ?? null, 'MGET')
    let strings = 0
    ids.forEach((id, index) => {
      const value = list[index] ?? null
      if (value !== null) strings++
      collect(found, id, value)
    })
    if (replyInteger(exists ?? null, 'EXISTS') > strings) {
      await this.#getEach(
        ids.filter((id) => !found.has(id)),
        found,
      )
    }
  }

  async #getEach(ids: readonly string[], found: Map<string, L2Value>): Promise<void> {
    if (ids.length === 0) return
    const replies = await this.#pipeline(ids.map((id) => ['GET', this.keys.itemKey(id)]))
    ids.forEach((id, index) => {
      collect(found, id, replies[index] ?? null)
    })
  }

  async delete(ids: readonly string[]): Promise<number> {
    const unique = [...new Set(ids)]
    if (unique.length === 0) return 0
    const itemCommands = this.#unlink(unique.map((id) => this.keys.itemKey(id)))
    const { json, search } = this.#capabilities
    const searchKey = (id: string) => (json ? this.keys.docKey(id) : this.keys.searchHashKey(id))
    const docCommands = this.searchProjections && (json || search) ? this.#unlink(unique.map(searchKey)) : []
    const replies = await this.#pipeline([...itemCommands, ...docCommands])
    let deleted = 0
    for (let i = 0; i < itemCommands.length; i++) deleted += replyInteger(replies[i] ?? null, 'UNLINK')
    for (const reply of replies) throwIfError(reply)
    return deleted
  }

  /** UNLINK frees big values off the main thread. One command per key on a cluster (slots). */
  #unlink(keys: string[]): RedisCommand[] {
    return this.#capabilities.cluster ? keys.map((key) => ['UNLINK', key]) : [['UNLINK', ...keys]]
  }

  async scanPrefix(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<L2ScanPage> {
    const limit = options.limit ?? DEFAULT_SCAN_LIMIT
    if (!Number.isSafeInteger(limit) || limit <= 0) {
      throw new InvalidArgumentError(`limit must be a positive integer, got ${limit}`)
    }
    const ids = new Set<string>()
    let cursor = options.cursor ?? '0'
    if (!/^\d+$/.test(cursor)) throw new InvalidArgumentError('cursor must come from a previous scanPrefix')
    do {
      cursor = await this.#scanStep(cursor, prefix, ids)
    } while (cursor !== '0' && ids.size < limit)
    return { ids: [...ids], cursor: cursor === '0' ? null : cursor }
  }

  async countPrefix(prefix: string): Promise<number> {
    // A Set, because SCAN may return a key twice while the key space is rehashed.
    const ids = new Set<string>()
    let cursor = '0'
    do {
      cursor = await this.#scanStep(cursor, prefix, ids)
    } while (cursor !== '0')
    return ids.size
  }

  async #scanStep(cursor: string, prefix: string, into: Set<string>): Promise<string> {
    const pattern = this.keys.itemPattern(prefix)
    const reply = replyArray(
      await this.#call(() =>
        this.transport.send(['SCAN', cursor, 'MATCH', pattern, 'COUNT', this.#scanCount]),
      ),
      'SCAN',
    )
    for (const key of replyArray(reply[1] ?? null, 'SCAN')) {
      // The pattern may match a key whose id only contains `prefix` after a `}i:` of its own.
      const id = this.keys.idOfItemKey(replyText(key, 'SCAN'))
      if (id?.startsWith(prefix)) into.add(id)
    }
    return replyText(reply[0] ?? null, 'SCAN')
  }

  async ping(): Promise<void> {
    const reply = await this.#call(() => this.transport.send(['PING']))
    if (replyText(reply, 'PING') !== 'PONG') throw new BackendError('l2', 'PING did not answer PONG')
  }

  async close(): Promise<void> {
    await this.#call(() => this.transport.close())
  }

  /** The transport carries text only (Upstash REST): envelopes are sent as base64. */
  get textOnly(): boolean {
    return this.transport.binarySafe === false
  }

  /** One command under this store's error policy, for the parts kept beside the items (the outbox). */
  send(command: RedisCommand): Promise<RedisReply> {
    return this.#call(() => this.transport.send(command))
  }

  /** Commands in one round trip under this store's error policy (replies and errors in place). */
  pipeline(commands: readonly RedisCommand[]): Promise<RedisReply[]> {
    return this.#pipeline(commands)
  }

  /** The TTL an entry is written with: a tombstone's retention, an item's own, 0 for none. */
  ttlOf(entry: L2WriteEntry): number {
    if (entry.record.tombstone) return this.#tombstoneTtlMs
    if (entry.ttlMs === undefined) return 0
    validateTtl(entry.ttlMs)
    return entry.ttlMs
  }

  /** Any error reply fails the whole call; the entries that went through are idempotent under the guard, so the caller retries the batch as is. */
  async #runScripts(calls: readonly ScriptCall[]): Promise<RedisReply[]> {
    const replies = await this.scripts.run(calls)
    const failures = replies.filter((reply): reply is Error => reply instanceof Error)
    const first = failures[0]
    if (first !== undefined) {
      const reason = isReplyError(first) ? first.reply : first.message
      throw new BackendError('l2', `${failures.length} of ${calls.length} writes failed: ${reason}`, {
        cause: first,
      })
    }
    return replies
  }

  #pipeline(commands: readonly RedisCommand[]): Promise<RedisReply[]> {
    return this.#call(() => this.transport.pipeline(commands))
  }

  /** Transports throw typed errors already; anything else (a driver bug) is wrapped, not leaked raw. */
  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      if (isSyncError(error)) throw error
      throw new BackendError(
        'l2',
        `${this.transport.driver}: ${(error as Error)?.message ?? String(error)}`,
        {
          cause: error,
        },
      )
    }
  }
}

function throwIfErrorReply(reply: RedisReply): RedisReply {
  throwIfError(reply)
  return reply
}

/** Adds the decoded value of one reply; nil is a miss, WRONGTYPE and undecodable bytes are corrupt. */
function collect(found: Map<string, L2Value>, id: string, reply: RedisReply): void {
  if (reply === null) return
  if (isReplyError(reply, 'WRONGTYPE')) {
    found.set(id, new CorruptValue(id, 'the item key holds another Redis type (WRONGTYPE)'))
    return
  }
  throwIfError(reply)
  if (reply instanceof Uint8Array) found.set(id, decodeEnvelope(id, reply))
  else
    found.set(
      id,
      new CorruptValue(id, `unexpected reply type ${Array.isArray(reply) ? 'array' : typeof reply}`),
    )
}
