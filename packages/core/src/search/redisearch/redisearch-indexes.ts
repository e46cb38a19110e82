import { ConflictError, IndexBuildingError, NoTierError, NotFoundError } from '../../errors.ts'
import type { RedisKeyLayout } from '../../l2/key-layout.ts'
import { replyArray, replyText } from '../../l2/redis-reply.ts'
import { isReplyError } from '../../l2/redis-reply-error.ts'
import type { RedisCapabilities, RedisCommand, RedisReply } from '../../l2/redis-transport.ts'
import { defaultPlatform, type Platform } from '../../platform/platform.ts'
import { type IndexDefinition, parseIndexDefinition } from '../index-definition.ts'
import type { IndexSearch, IndexStatus } from '../l3-search.ts'
import { badCursor } from '../opaque-cursor.ts'
import { decodeCursor, encodeCursor, type SearchPosition } from '../search-cursor.ts'
import { checkQuery, type SearchRequest } from '../search-query.ts'
import { type PagePhase, pageCommand } from './redisearch-page-command.ts'
import {
  type IndexProgress,
  parseAggregateRows,
  parseIndexInfo,
  type RediSearchHit,
  type RowSort,
} from './redisearch-reply.ts'
import {
  createIndexCommand,
  definitionsKey,
  dropIndexCommand,
  type IndexKeyType,
  indexInfoCommand,
  indexName,
} from './redisearch-schema.ts'

/**
 * Search over L2: the query model answered by RediSearch (Redis 8 Query Engine) from the `x`
 * projection every L2 write keeps in its `j:` JSON document, with exactly the in-memory
 * evaluator's answers (search-in-memory.ts), page by page, and its cursors (search-cursor.ts), so
 * a cursor from one backend continues on another. On a server with the query engine but without
 * RedisJSON the writes keep the same projection in `h:` hashes (search-projection-hash.ts) and the
 * index is ON HASH, under the same attribute names: queries and pages are the same commands.
 *
 * How exactness is kept despite RediSearch's semantics:
 * - Nothing of the user's reaches RediSearch as text. Tags, words and ids are term codes
 *   (term-code.ts: no trimming, case folding, escaping or empty-tag issue; byte order = code point
 *   order; code prefix = string prefix), numbers are two 32-bit halves of an order-preserving key
 *   (number-key.ts: no `%.12g` in replies, no parser rounding). Words are TAGs of codes, not TEXT,
 *   so no tokenizer, stemmer, stopword list or case folding applies: a word matches as
 *   `textWords` splits it.
 * - Every projection member has one JSON type, so a document is never dropped from the index for a
 *   type mismatch; an item whose value at a path has the wrong type just has no such member.
 * - `not` is RediSearch's complement over the index's documents; liveness (no tombstone, not
 *   expired at `now`) and the id prefix (PREFIX per shard) bound that set as the evaluator does.
 * - Order and keyset: see redisearch-page-command.ts (SORTBY on codes and key halves, then the id
 *   code; FILTER for the position; a sorted page in two phases so missing values come last either
 *   way). Values come back from sortable attributes, without opening a document.
 *
 * Where it cannot match the evaluator:
 * - `prefix` expands to at most `search-max-prefix-expansions` distinct tags (default 200) and
 *   RediSearch drops the rest silently (a RESP3 warning only): exact while at most that many
 *   distinct tags of the field (over all items) start with the prefix; raise that setting for
 *   fields with many distinct tags. It also needs `search-min-prefix` ≤ 3 (default 2): a
 *   one-character prefix is a 3-character code.
 * - Only documents in L2 are searched: an item written to L3 only, evicted from Redis, written
 *   before RedisJSON was there, or whose document RedisJSON refused (json-document.ts), is not
 *   found; writes still queued in this engine are not there yet either.
 * - While RediSearch backfills a new index, a search is refused (`IndexBuildingError`) rather than
 *   answered from part of the documents.
 * - With `timeoutMs` > 0 a query that runs out of time returns a partial page unless the server
 *   has `search-on-timeout fail`; the default, 0, sets no timeout.
 * - Not on a Redis Cluster: an index there sees one shard's keys without the coordinator.
 * - An index reads one key type, chosen by the server's capabilities when it is defined. If
 *   RedisJSON appears or goes (or the store's `capabilities` override changes), writes keep the
 *   other key type from then on: `define` builds such an index again, and a search on it is
 *   refused (`ConflictError`) rather than answered from keys no longer written.
 */
export interface RediSearchConnection {
  readonly keys: RedisKeyLayout
  readonly capabilities?: RedisCapabilities
  /** One command; an error reply is thrown (RedisStore.send does this under its error policy). */
  send(command: RedisCommand): Promise<RedisReply>
}

export interface RediSearchIndexesOptions {
  /** FT.AGGREGATE's TIMEOUT in ms; 0 (default) for none, see above. */
  readonly timeoutMs?: number
  /** How often `define` asks FT.INFO whether the backfill is done (default 100 ms). */
  readonly pollMs?: number
  /** Timers for that polling. */
  readonly platform?: Platform
}

/** One page of a search: ids and versions in order (with sort values when sorted), and the next cursor. */
export interface RediSearchPage {
  readonly items: readonly RediSearchHit[]
  readonly cursor: string | null
}

export class RediSearchIndexes implements IndexSearch {
  #definitions = new Map<string, IndexDefinition>()
  /** Indexes FT.INFO has said are backfilled, as defined then (a redefinition builds again). */
  readonly #built = new Set<IndexDefinition>()
  readonly #timeoutMs: number
  readonly #pollMs: number
  readonly #platform: Platform
  readonly #keyType: IndexKeyType

  constructor(
    private readonly connection: RediSearchConnection,
    options: RediSearchIndexesOptions = {},
  ) {
    const capabilities = connection.capabilities
    if (capabilities !== undefined && !capabilities.search) {
      throw new NoTierError(
        'search on Redis needs its query engine (RediSearch 2+, built into Redis 8): this server has none',
      )
    }
    if (capabilities?.cluster) {
      throw new NoTierError('search on Redis is not available on a Redis Cluster (an index sees one shard)')
    }
    // What RedisStore keeps beside each envelope: a JSON document with RedisJSON, else a hash.
    this.#keyType = capabilities === undefined || capabilities.json ? 'JSON' : 'HASH'
    this.#timeoutMs = options.timeoutMs ?? 0
    this.#pollMs = options.pollMs ?? 100
    this.#platform = options.platform ?? defaultPlatform
  }

  /** What the indexes this defines read: `JSON` documents or projection `HASH`es. */
  get keyType(): IndexKeyType {
    return this.#keyType
  }

  get definitions(): readonly IndexDefinition[] {
    return [...this.#definitions.values()]
  }

  /** Reads the definitions kept in Redis (every instance over the prefix shares them). */
  async load(): Promise<void> {
    const reply = replyArray(await this.#send(['HGETALL', definitionsKey(this.#layout)]), 'HGETALL')
    const loaded = new Map<string, IndexDefinition>()
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const definition = parseIndexDefinition(JSON.parse(replyText(reply[i + 1] ?? null, 'HGETALL')))
      loaded.set(definition.name, definition)
    }
    this.#definitions = loaded
  }

  definition(name: string): IndexDefinition {
    const definition = this.#definitions.get(name)
    if (definition === undefined) throw new NotFoundError(`no index named ${JSON.stringify(name)}`)
    return definition
  }

  /**
   * Creates (or replaces) an index; RediSearch then backfills it from the documents already in L2,
   * and this waits for that, telling `onProgress` the documents indexed so far. Returns whether
   * anything changed (false: the same definition, and the index exists).
   */
  async define(definition: IndexDefinition, onProgress?: (covered: number) => void): Promise<boolean> {
    const text = JSON.stringify(definition)
    // What Redis holds, not this instance's copy: another instance may have defined it since.
    const stored = await this.#send(['HGET', definitionsKey(this.#layout), definition.name])
    if (stored !== null && replyText(stored, 'HGET') === text && (await this.#current(definition.name))) {
      this.#definitions.set(definition.name, definition)
      return false
    }
    await this.#dropIndex(definition.name)
    try {
      await this.#send(createIndexCommand(this.#layout, definition, this.#keyType))
    } catch (error) {
      // Another instance created it between our drop and create: replace theirs with ours.
      if (!isReplyError(error) || !/already exists/i.test(error.reply)) throw error
      await this.#dropIndex(definition.name)
      await this.#send(createIndexCommand(this.#layout, definition, this.#keyType))
    }
    await this.#send(['HSET', definitionsKey(this.#layout), definition.name, text])
    this.#definitions.set(definition.name, definition)
    for (;;) {
      const progress = await this.progress(definition.name)
      onProgress?.(progress.documents)
      if (!progress.indexing) break
      await new Promise<void>((resolve) => this.#platform.setTimer(resolve, this.#pollMs))
    }
    this.#built.add(definition)
    return true
  }

  /** Drops the index, never the documents (they are L2's items). */
  async drop(name: string): Promise<void> {
    this.definition(name)
    await this.#dropIndex(name)
    await this.#send(['HDEL', definitionsKey(this.#layout), name])
    this.#definitions.delete(name)
  }

  /** FT.INFO of an index: whether its backfill still runs, and how far it got. */
  async progress(name: string): Promise<IndexProgress> {
    return parseIndexInfo(await this.#send(indexInfoCommand(this.#layout, name)))
  }

  async building(name: string): Promise<boolean> {
    return (await this.progress(name)).indexing
  }

  /** The definition, read from Redis again when this instance does not know it; refused while building. */
  async searchable(name: string): Promise<IndexDefinition> {
    if (!this.#definitions.has(name)) await this.load()
    const definition = this.definition(name)
    await this.#ensureBuilt(definition)
    return definition
  }

  async status(name: string): Promise<IndexStatus> {
    if (!this.#definitions.has(name)) await this.load()
    this.definition(name)
    const progress = await this.progress(name)
    return progress.indexing ? { state: 'building', covered: progress.documents } : { state: 'ready' }
  }

  /** One page of a search (validated against the index); the cursor is the one this page ends at. */
  async search(request: SearchRequest, now: number): Promise<RediSearchPage> {
    const definition = this.definition(request.index)
    checkQuery(definition, request.query, request.sort)
    const position =
      request.cursor === undefined
        ? undefined
        : decodeCursor(request.cursor, definition.name, request.query, request.sort)
    await this.#ensureBuilt(definition)
    const limit = request.limit
    const sort = request.sort
    if (sort === undefined) {
      const hits = await this.#rows(
        definition,
        request,
        'all',
        position && { id: position.id },
        limit + 1,
        now,
      )
      return this.#page(definition, request, hits)
    }
    const type = definition.fields[sort.field]?.type
    const value = position?.value ?? null
    if (value !== null && typeof value !== (type === 'numeric' ? 'number' : 'string')) throw badCursor()
    let hits: RediSearchHit[] = []
    if (position === undefined || value !== null) {
      const after = position && value !== null ? { id: position.id, value } : undefined
      hits = await this.#rows(definition, request, 'valued', after, limit + 1, now)
      if (hits.length > limit) return this.#page(definition, request, hits)
    }
    // The valued items ran out within this page: the items without a value follow, by id.
    const after = position !== undefined && value === null ? { id: position.id } : undefined
    const missing = await this.#rows(definition, request, 'missing', after, limit - hits.length + 1, now)
    return this.#page(definition, request, [...hits, ...missing])
  }

  async #rows(
    definition: IndexDefinition,
    request: SearchRequest,
    phase: PagePhase,
    after: { id: string; value?: number | string } | undefined,
    rows: number,
    now: number,
  ): Promise<RediSearchHit[]> {
    const command = pageCommand({
      index: indexName(this.#layout, definition.name),
      definition,
      query: request.query,
      ...(request.sort && { sort: request.sort }),
      phase,
      ...(after && { after }),
      rows,
      now,
      timeoutMs: this.#timeoutMs,
    })
    if (command === undefined) return []
    return parseAggregateRows(await this.#send(command), rowSort(definition, request, phase))
  }

  /** The first `limit` hits, and a cursor after the last of them when more followed. */
  #page(definition: IndexDefinition, request: SearchRequest, hits: readonly RediSearchHit[]): RediSearchPage {
    const items = hits.slice(0, request.limit)
    const last = items.at(-1)
    if (hits.length <= request.limit || last === undefined) return { items, cursor: null }
    const at: SearchPosition =
      request.sort === undefined ? { id: last.id } : { id: last.id, value: last.sortValue ?? null }
    return { items, cursor: encodeCursor(definition.name, request.query, request.sort, at) }
  }

  async #ensureBuilt(definition: IndexDefinition): Promise<void> {
    if (this.#built.has(definition)) return
    const progress = await this.progress(definition.name)
    if (!this.#readsKeyType(progress)) {
      throw new ConflictError(
        `index ${JSON.stringify(definition.name)} reads ${progress.keyType} keys, but this server's items now keep ${this.#keyType} search projections: define it again`,
      )
    }
    if (progress.indexing) throw new IndexBuildingError(definition.name, progress.documents)
    this.#built.add(definition)
  }

  /** Whether the index is there and reads the key type the writes keep (assumed if FT.INFO omits it). */
  async #current(name: string): Promise<boolean> {
    try {
      return this.#readsKeyType(await this.progress(name))
    } catch (error) {
      if (isUnknownIndex(error)) return false
      throw error
    }
  }

  #readsKeyType(progress: IndexProgress): boolean {
    return progress.keyType === undefined || progress.keyType === this.#keyType
  }

  async #dropIndex(name: string): Promise<void> {
    try {
      await this.#send(dropIndexCommand(this.#layout, name))
    } catch (error) {
      if (!isUnknownIndex(error)) throw error
    }
  }

  get #layout(): RedisKeyLayout {
    return this.connection.keys
  }

  #send(command: RedisCommand): Promise<RedisReply> {
    return this.connection.send(command)
  }
}

function rowSort(definition: IndexDefinition, request: SearchRequest, phase: PagePhase): RowSort {
  if (request.sort === undefined) return { kind: 'none' }
  if (phase === 'missing') return { kind: 'missing' }
  const type = definition.fields[request.sort.field]?.type
  return { kind: type === 'numeric' ? 'numeric' : 'tag', field: request.sort.field }
}

/** RediSearch's answer for an index that is not there (its wording changed across versions). */
function isUnknownIndex(error: unknown): boolean {
  return isReplyError(error) && /unknown index|no such index/i.test(error.reply)
}
