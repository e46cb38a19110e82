import { BackendError, InvalidArgumentError, NoTierError } from '../errors.ts'
import type { SyncItem } from '../item/sync-item.ts'
import type { StoredRecord } from '../l3/stored-record.ts'
import type { L3Tier } from '../tiers/l3-tier.ts'
import { type IndexBackend, sqlIndexBackend } from './index-backend.ts'
import { type IndexDefinition, parseIndexDefinition } from './index-definition.ts'
import type { IndexStatus, L3Search } from './l3-search.ts'
import { decodeListingCursor, encodeListingCursor, parseListingRequest } from './listing-request.ts'
import { positionOfHit, type RankedHit } from './merge-ranked.ts'
import {
  newerThanStored,
  pendingCounts,
  pendingListing,
  pendingSearchHits,
  storedCounts,
  withPending,
} from './pending-results.ts'
import type { PendingWrite, PendingWrites } from './pending-writes.ts'
import { decodeCursor, encodeCursor } from './search-cursor.ts'
import { checkQuery, parseSearchRequest } from './search-query.ts'

export interface SearchServiceParts {
  readonly l3: L3Tier | undefined
  /** Where index definitions live and searches are answered: L3 (default) or RediSearch on L2. */
  readonly indexes: () => IndexBackend
  /** Deletes through the engine's write path (ack `stored`): every tier, the filter and L1 follow. */
  readonly deleteStored: (ids: readonly string[]) => Promise<{ deleted: number; failed: number }>
  /** What this engine acknowledged and L3 may not hold yet: merged into every answer (read your writes). */
  readonly pending: PendingWrites
  /** Items through the engine's one read path, batched. */
  readonly readMany: (ids: readonly string[]) => Promise<Map<string, SyncItem>>
  readonly now: () => number
}

/** Items deleted per step of a prefix delete. */
const DELETE_PAGE = 500

export interface ListingResult {
  readonly items: readonly { readonly id: string; readonly version: number; readonly state: string }[]
  readonly cursor: string | null
}

export interface SearchResult {
  readonly items: readonly { readonly id: string; readonly version: number; readonly value?: unknown }[]
  readonly cursor: string | null
}

/**
 * Search for the engine: index definitions and queries validated, answered by L3's indexes
 * through L3's breaker. Read your writes: what this engine acknowledged and L3 may not hold yet
 * (the write queue, its writes in the Redis outbox) is merged into each answer, evaluated with the
 * reference semantics; nothing waits for a flush. Values come through the one read path, in one batch.
 */
export class SearchService {
  constructor(private readonly parts: SearchServiceParts) {}

  async defineIndex(
    input: unknown,
    onProgress?: (covered: number) => void,
  ): Promise<{ created: boolean; definition: IndexDefinition }> {
    const definition = parseIndexDefinition(input)
    const { guard, search } = this.parts.indexes()
    const created = await guard.runJob('write', () => search.define(definition, onProgress))
    return { created, definition }
  }

  async dropIndex(name: string): Promise<void> {
    const { guard, search } = this.parts.indexes()
    await guard.runJob('write', () => search.drop(name))
  }

  listIndexes(): readonly IndexDefinition[] {
    return this.parts.indexes().search.definitions
  }

  /** An index's definition and whether it is ready or still being backfilled. */
  async indexStatus(name: string): Promise<IndexDefinition & IndexStatus> {
    const { guard, search } = this.parts.indexes()
    const status = await guard.run('read', () => search.status(name))
    return { ...search.definition(name), ...status }
  }

  /**
   * One page: L3's answer merged with this engine's pending writes (a pending write replaces its
   * id's stored version, a pending delete removes it), evaluated with the reference semantics.
   */
  async search(input: unknown): Promise<SearchResult> {
    const request = parseSearchRequest(input)
    const backend = this.parts.indexes()
    const { guard, search } = backend
    // Known here: L3's search checks it is ready and the query fits it. Unknown: read it from L3 first.
    const definition =
      search.definitions.find((known) => known.name === request.index) ??
      (await guard.run('read', () => search.searchable(request.index)))
    const now = this.parts.now()
    const pending = await this.#pendingUnder(definition.prefix, backend)
    const page = await guard.run('read', () => search.search(request, now))
    let items: readonly RankedHit[] = page.items
    let cursor = page.cursor
    if (pending.length > 0) {
      checkQuery(definition, request.query, request.sort)
      const sorted = request.sort !== undefined
      const position =
        request.cursor === undefined
          ? undefined
          : decodeCursor(request.cursor, definition.name, request.query, request.sort)
      const merged = withPending(
        { items: page.items, more: page.cursor !== null },
        pending,
        pendingSearchHits(definition, request, pending, position, now),
        request.limit,
        sorted,
        request.sort?.order ?? 'asc',
      )
      items = merged.items
      cursor =
        merged.more && merged.end
          ? encodeCursor(definition.name, request.query, request.sort, positionOfHit(merged.end, sorted))
          : null
    }
    if (!request.values) return { items: items.map(({ id, version }) => ({ id, version })), cursor }
    const found = await this.parts.readMany(items.map((item) => item.id))
    const hydrated = items.flatMap((item) => {
      const current = found.get(item.id)
      // Gone since L3 answered (a delete just now): not in the results.
      if (current === undefined) return []
      return [{ id: item.id, version: current.version, value: current.json() }]
    })
    return { items: hydrated, cursor }
  }

  /**
   * Live items under a prefix (taken literally) and with a state, in id order, a page at a time;
   * read your writes as for search.
   */
  async listItems(input: unknown): Promise<ListingResult> {
    const request = parseListingRequest(input)
    const afterId = decodeListingCursor(request)
    const { l3, search } = this.#search()
    const now = this.parts.now()
    const query = {
      prefix: request.prefix,
      ...(request.state !== undefined && { state: request.state }),
      ...(afterId !== undefined && { afterId }),
    }
    const pending = await this.#pendingUnder(request.prefix, sqlIndexBackend(l3)!)
    const page = await l3.guard.run('scan', () => search.list({ ...query, limit: request.limit }, now))
    const merged = withPending(
      page,
      pending,
      pendingListing(query, pending, now),
      request.limit,
      false,
      'asc',
    )
    return {
      items: merged.items.map(({ id, version, state }) => ({ id, version, state })),
      cursor: merged.more && merged.end ? encodeListingCursor(request, merged.end.id) : null,
    }
  }

  /** How many live items are under a prefix (literal) and have a state; read your writes as for search. */
  async countItems(input: unknown): Promise<number> {
    const request = parseListingRequest(input)
    if (request.cursor !== undefined) throw new InvalidArgumentError('a count takes no cursor')
    const { l3, search } = this.#search()
    const now = this.parts.now()
    const taken = await this.parts.pending.under(request.prefix)
    const stored =
      taken.length === 0
        ? new Map<string, StoredRecord>()
        : await l3.guard.run('read', () => l3.store.read(taken.map((write) => write.id)))
    const pending = newerThanStored(taken, stored, this.parts.pending)
    const counted = await l3.guard.run('scan', () =>
      search.count(
        { prefix: request.prefix, ...(request.state !== undefined && { state: request.state }) },
        now,
      ),
    )
    let count = counted
    for (const write of pending) {
      if (storedCounts(stored.get(write.id), request.state, now)) count--
      if (pendingCounts(write, request.state, now)) count++
    }
    return count
  }

  /** This engine's pending writes under `prefix` that the backend's tier does not hold yet (one batched head read). */
  async #pendingUnder(prefix: string, backend: IndexBackend): Promise<PendingWrite[]> {
    const taken = await this.parts.pending.under(prefix)
    if (taken.length === 0) return taken
    const heads = await backend.guard.run('read', () => backend.heads(taken.map((write) => write.id)))
    return newerThanStored(taken, heads, this.parts.pending)
  }

  /**
   * Deletes every live item under a prefix (and with a state), a page at a time, through the write
   * path: tombstones at fresh versions, so a write made after the delete began outlives it, and
   * L1, the queue, L2, L3 and the filter stay one. `onProgress` is told the count so far. Returns
   * the live items removed. A failure stops it with what it had deleted (retrying finishes it).
   * With `limit`, one step of at most that many: `more` says whether items are left (a client
   * showing progress, or a request bounded in time, calls it again until it is false).
   */
  async deletePrefix(
    input: unknown,
    onProgress?: (deleted: number) => void,
  ): Promise<{ deleted: number; more: boolean }> {
    const given = parseListingRequest(input)
    if (given.cursor !== undefined) throw new InvalidArgumentError('a bulk delete takes no cursor')
    const bounded = input !== null && typeof input === 'object' && 'limit' in input
    const page = bounded ? given.limit : DELETE_PAGE
    const listing = {
      prefix: given.prefix,
      limit: page,
      ...(given.state !== undefined && { state: given.state }),
    }
    let deleted = 0
    let cursor: string | null = null
    do {
      const found: ListingResult = await this.listItems({ ...listing, ...(cursor !== null && { cursor }) })
      if (found.items.length === 0) return { deleted, more: false }
      const outcome = await this.parts.deleteStored(found.items.map((item) => item.id))
      if (outcome.failed > 0) {
        throw new BackendError(
          'l3',
          `${outcome.failed} deletes of a page failed after ${deleted + outcome.deleted} were deleted; run it again`,
        )
      }
      deleted += outcome.deleted
      onProgress?.(deleted)
      cursor = found.cursor
      if (bounded) return { deleted, more: cursor !== null }
    } while (cursor !== null)
    return { deleted, more: false }
  }

  #search(): { l3: L3Tier; search: L3Search } {
    const l3 = this.parts.l3
    const search = l3?.store.search
    if (!l3 || !search)
      throw new NoTierError('search needs an SQL L3 (SQLite or MySQL): this engine has none')
    return { l3, search }
  }
}
