import type { IndexDefinition } from '../../search/index-definition.ts'
import type { IndexStatus, L3ListingPage, L3Search, L3SearchPage } from '../../search/l3-search.ts'
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
  constructor(
    private readonly tables: () => PartitionMap<SqlStore>,
    /** Reads the partition registry again when it may be stale (another instance registered one). */
    private readonly refresh: () => Promise<void>,
  ) {}

  get definitions(): readonly IndexDefinition[] {
    return this.#base.definitions
  }

  definition(name: string): IndexDefinition {
    return this.#base.definition(name)
  }

  /**
   * Every table records the definition first (one list of indexes everywhere, and each write
   * refreshes its rows from then on), the wait for other instances happens once, then the tables
   * that may hold ids under its prefix are backfilled (the others have nothing to cover).
   */
  async define(definition: IndexDefinition, onProgress?: (covered: number) => void): Promise<boolean> {
    await this.refresh()
    const tables = this.tables()
    const declared: SqlStore[] = []
    for (const store of tables.values) if (await store.search.declare(definition)) declared.push(store)
    if (declared.length === 0) return false
    await tables.base.search.settle()
    const covering = new Set(tables.covering(definition.prefix))
    let before = 0
    for (const store of declared) {
      let covered = 0
      await store.search.build(definition, (n) => {
        covered = n
        if (covering.has(store)) onProgress?.(before + n)
      })
      if (covering.has(store)) before += covered
    }
    return true
  }

  async searchable(name: string): Promise<IndexDefinition> {
    await this.refresh()
    const definition = await this.#base.searchable(name)
    for (const store of this.tables().covering(definition.prefix)) {
      // A partition registered by an instance that had not yet read this index lacks it: build it
      // there now (its rows are refreshed by writes from then on, the backfill covers the rest).
      await store.search.refresh()
      if (!store.search.definitions.some((d) => d.name === name)) {
        if (await store.search.declare(definition)) await store.search.build(definition)
      }
      await store.search.searchable(name)
    }
    return definition
  }

  /** Building while any table that may hold its ids is; covered summed over them. */
  async status(name: string): Promise<IndexStatus> {
    await this.refresh()
    const definition = this.#base.definition(name)
    let building = false
    let covered: number | undefined
    for (const store of this.tables().covering(definition.prefix)) {
      if (!store.search.definitions.some((d) => d.name === name)) continue
      const status = await store.search.status(name)
      building ||= status.state === 'building'
      if (status.covered !== undefined) covered = (covered ?? 0) + status.covered
    }
    return { state: building ? 'building' : 'ready', ...(covered !== undefined && { covered }) }
  }

  async drop(name: string): Promise<void> {
    await this.refresh()
    const [base, ...partitions] = this.tables().values
    await base!.search.drop(name)
    for (const store of partitions) {
      if (store.search.definitions.some((d) => d.name === name)) await store.search.drop(name)
    }
  }

  async search(request: SearchRequest, now: number): Promise<L3SearchPage> {
    await this.refresh()
    const tables = this.tables()
    // No partitions: the base table answers alone (it checks the index itself).
    if (tables.size === 0) return tables.base.search.search(request, now)
    const definition = await this.searchable(request.index)
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
    return {
      items: merged.items,
      cursor:
        merged.more && merged.end
          ? encodeCursor(definition.name, request.query, request.sort, positionOfHit(merged.end, sorted))
          : null,
    }
  }

  async list(
    query: { prefix: string; state?: string; afterId?: string; limit: number },
    now: number,
  ): Promise<L3ListingPage> {
    await this.refresh()
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
    await this.refresh()
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
