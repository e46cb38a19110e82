import { BackendError, InvalidArgumentError, NoTierError } from '../errors.ts'
import type { SyncItem } from '../item/sync-item.ts'
import type { L3Tier } from '../tiers/l3-tier.ts'
import { type IndexDefinition, parseIndexDefinition } from './index-definition.ts'
import type { L3Search } from './l3-search.ts'
import { decodeListingCursor, encodeListingCursor, parseListingRequest } from './listing-request.ts'
import { parseSearchRequest } from './search-query.ts'

export interface SearchServiceParts {
  readonly l3: L3Tier | undefined
  /** Deletes through the engine's write path (ack `stored`): every tier, the filter and L1 follow. */
  readonly deleteStored: (ids: readonly string[]) => Promise<{ deleted: number; failed: number }>
  /** Stores every write this engine has acknowledged that is still pending (read your writes). */
  readonly settlePending: () => Promise<void>
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
 * through L3's breaker. Read your writes: what this engine acknowledged and still holds (the write
 * queue) is stored first, so L3's answer includes it. Values come through the one read path, in
 * one batch.
 */
export class SearchService {
  constructor(private readonly parts: SearchServiceParts) {}

  async defineIndex(
    input: unknown,
    onProgress?: (covered: number) => void,
  ): Promise<{ created: boolean; definition: IndexDefinition }> {
    const definition = parseIndexDefinition(input)
    const { l3, search } = this.#search()
    await this.parts.settlePending()
    const created = await l3.guard.run('write', () => search.define(definition, onProgress))
    return { created, definition }
  }

  async dropIndex(name: string): Promise<void> {
    const { l3, search } = this.#search()
    await l3.guard.run('write', () => search.drop(name))
  }

  listIndexes(): readonly IndexDefinition[] {
    return this.#search().search.definitions
  }

  async search(input: unknown): Promise<SearchResult> {
    const request = parseSearchRequest(input)
    const { l3, search } = this.#search()
    await l3.guard.run('read', () => search.searchable(request.index))
    await this.parts.settlePending()
    const page = await l3.guard.run('read', () => search.search(request, this.parts.now()))
    if (!request.values) return page
    const found = await this.parts.readMany(page.items.map((item) => item.id))
    const items = page.items.flatMap((item) => {
      const current = found.get(item.id)
      // Gone since L3 answered (a delete just now): not in the results.
      if (current === undefined) return []
      return [{ id: item.id, version: current.version, value: current.json() }]
    })
    return { items, cursor: page.cursor }
  }

  /**
   * Live items under a prefix (taken literally) and with a state, in id order, a page at a time;
   * read your writes as for search.
   */
  async listItems(input: unknown): Promise<ListingResult> {
    const request = parseListingRequest(input)
    const afterId = decodeListingCursor(request)
    const { l3, search } = this.#search()
    await this.parts.settlePending()
    const page = await l3.guard.run('scan', () =>
      search.list(
        {
          prefix: request.prefix,
          limit: request.limit,
          ...(request.state !== undefined && { state: request.state }),
          ...(afterId !== undefined && { afterId }),
        },
        this.parts.now(),
      ),
    )
    const last = page.items.at(-1)
    return { items: page.items, cursor: page.more && last ? encodeListingCursor(request, last.id) : null }
  }

  /** How many live items are under a prefix (literal) and have a state; read your writes as for search. */
  async countItems(input: unknown): Promise<number> {
    const request = parseListingRequest(input)
    if (request.cursor !== undefined) throw new InvalidArgumentError('a count takes no cursor')
    const { l3, search } = this.#search()
    await this.parts.settlePending()
    return l3.guard.run('scan', () =>
      search.count(
        { prefix: request.prefix, ...(request.state !== undefined && { state: request.state }) },
        this.parts.now(),
      ),
    )
  }

  /**
   * Deletes every live item under a prefix (and with a state), a page at a time, through the write
   * path: tombstones at fresh versions, so a write made after the delete began outlives it, and
   * L1, the queue, L2, L3 and the filter stay one. `onProgress` is told the count so far. Returns
   * the live items removed. A failure stops it with what it had deleted (retrying finishes it).
   */
  async deletePrefix(input: unknown, onProgress?: (deleted: number) => void): Promise<{ deleted: number }> {
    const request = parseListingRequest({ ...(input as object), limit: DELETE_PAGE })
    let deleted = 0
    let cursor: string | null = null
    do {
      const page: ListingResult = await this.listItems({
        prefix: request.prefix,
        limit: DELETE_PAGE,
        ...(request.state !== undefined && { state: request.state }),
        ...(cursor !== null && { cursor }),
      })
      if (page.items.length === 0) break
      const outcome = await this.parts.deleteStored(page.items.map((item) => item.id))
      if (outcome.failed > 0) {
        throw new BackendError(
          'l3',
          `${outcome.failed} deletes of a page failed after ${deleted + outcome.deleted} were deleted; run it again`,
        )
      }
      deleted += outcome.deleted
      onProgress?.(deleted)
      cursor = page.cursor
    } while (cursor !== null)
    return { deleted }
  }

  #search(): { l3: L3Tier; search: L3Search } {
    const l3 = this.parts.l3
    const search = l3?.store.search
    if (!l3 || !search)
      throw new NoTierError('search needs an SQL L3 (SQLite or MySQL): this engine has none')
    return { l3, search }
  }
}
