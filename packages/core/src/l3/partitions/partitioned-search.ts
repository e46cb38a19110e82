import type { IndexDefinition } from '../../search/index-definition.ts'
import type { L3ListingPage, L3Search, L3SearchPage } from '../../search/l3-search.ts'
import { mergeRanked, positionOfHit } from '../../search/merge-ranked.ts'
import { encodeCursor } from '../../search/search-cursor.ts'
import type { SearchRequest } from '../../search/search-query.ts'
import type { SqlStore } from '../sql-store.ts'
import type { PartitionMap } from './partition-map.ts'

/**
 * Search over a partitioned L3: every table carries every index (its own side tables), a page
 * asks each table that may hold ids under the index's prefix for the same page after the same
 * cursor and merges them in the result order.
 */
export class PartitionedSearch implements L3Search {
  constructor(private readonly tables: () => PartitionMap<SqlStore>) {}

  get definitions(): readonly IndexDefinition[] {
    return this.#base.definitions
  }

  definition(name: string): IndexDefinition {
    return this.#base.definition(name)
  }

  async define(definition: IndexDefinition, onProgress?: (covered: number) => void): Promise<boolean> {
    let before = 0
    let changed = false
    for (const store of this.tables().covering(definition.prefix)) {
      let covered = 0
      changed =
        (await store.search.define(definition, (n) => {
          covered = n
          onProgress?.(before + n)
        })) || changed
      before += covered
    }
    // Tables that cannot hold its ids still record it: one list of indexes on every table.
    for (const store of this.tables().values) {
      if (!store.search.definitions.some((d) => JSON.stringify(d) === JSON.stringify(definition))) {
        changed = (await store.search.define(definition)) || changed
      }
    }
    return changed
  }

  async drop(name: string): Promise<void> {
    const [base, ...partitions] = this.tables().values
    await base!.search.drop(name)
    for (const store of partitions) {
      if (store.search.definitions.some((d) => d.name === name)) await store.search.drop(name)
    }
  }

  async search(request: SearchRequest, now: number): Promise<L3SearchPage> {
    const definition = this.definition(request.index)
    const stores = this.tables().covering(definition.prefix)
    if (stores.length === 1) return stores[0]!.search.search(request, now)
    const pages = await Promise.all(stores.map((store) => store.search.search(request, now)))
    const sorted = request.sort !== undefined
    const merged = mergeRanked(
      pages.map((page) => ({ items: page.items, more: page.cursor !== null })),
      request.limit,
      sorted,
      request.sort?.order ?? 'asc',
    )
    const last = merged.items.at(-1)
    return {
      items: merged.items,
      cursor:
        merged.more && last
          ? encodeCursor(definition.name, request.query, request.sort, positionOfHit(last, sorted))
          : null,
    }
  }

  async list(
    query: { prefix: string; state?: string; afterId?: string; limit: number },
    now: number,
  ): Promise<L3ListingPage> {
    const stores = this.tables().covering(query.prefix)
    if (stores.length === 1) return stores[0]!.search.list(query, now)
    const pages = await Promise.all(stores.map((store) => store.search.list(query, now)))
    const merged = mergeRanked(
      pages.map((page) => ({ items: page.items, more: page.more })),
      query.limit,
      false,
      'asc',
    )
    const states = new Map(pages.flatMap((page) => page.items.map((item) => [item.id, item.state] as const)))
    return {
      items: merged.items.map((item) => ({
        id: item.id,
        version: item.version,
        state: states.get(item.id)!,
      })),
      more: merged.more,
    }
  }

  async count(query: { prefix: string; state?: string }, now: number): Promise<number> {
    const counts = await Promise.all(
      this.tables()
        .covering(query.prefix)
        .map((s) => s.search.count(query, now)),
    )
    return counts.reduce((a, b) => a + b, 0)
  }

  get #base() {
    return this.tables().base.search
  }
}
