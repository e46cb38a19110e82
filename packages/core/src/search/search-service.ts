import { NoTierError } from '../errors.ts'
import type { SyncItem } from '../item/sync-item.ts'
import type { L3Tier } from '../tiers/l3-tier.ts'
import { type IndexDefinition, parseIndexDefinition } from './index-definition.ts'
import type { L3Search } from './l3-search.ts'
import { decodeListingCursor, encodeListingCursor, parseListingRequest } from './listing-request.ts'
import { parseSearchRequest } from './search-query.ts'

export interface SearchServiceParts {
  readonly l3: L3Tier | undefined
  /** Stores every write this engine has acknowledged that is still pending (read your writes). */
  readonly settlePending: () => Promise<void>
  /** Items through the engine's one read path, batched. */
  readonly readMany: (ids: readonly string[]) => Promise<Map<string, SyncItem>>
  readonly now: () => number
}

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
    search.definition(request.index)
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

  #search(): { l3: L3Tier; search: L3Search } {
    const l3 = this.parts.l3
    const search = l3?.store.search
    if (!l3 || !search)
      throw new NoTierError('search needs an SQL L3 (SQLite or MySQL): this engine has none')
    return { l3, search }
  }
}
