import type { IndexDefinition } from './index-definition.ts'
import type { RankedHit } from './merge-ranked.ts'
import type { SearchRequest } from './search-query.ts'

/**
 * One page of a search answered by L3: ids and versions in order (with their sort values when
 * sorted, so pages can be merged), and where the next page starts.
 */
export interface L3SearchPage {
  readonly items: readonly RankedHit[]
  readonly cursor: string | null
}

/** One page of a listing: live items in id order, and whether more follow. */
export interface L3ListingPage {
  readonly items: readonly { readonly id: string; readonly version: number; readonly state: string }[]
  readonly more: boolean
}

export interface IndexStatus {
  readonly state: 'ready' | 'building'
  /** Items a backfill running in this process has covered so far (absent otherwise). */
  readonly covered?: number
}

/** Index definitions and searches over them: what a search backend offers (SQL side tables, RediSearch). */
export interface IndexSearch {
  readonly definitions: readonly IndexDefinition[]
  definition(name: string): IndexDefinition
  /**
   * The definition of an index ready to be searched, read from L3 again when this instance does
   * not know it yet; `NotFoundError` for none, `IndexBuildingError` while it is being backfilled.
   */
  searchable(name: string): Promise<IndexDefinition>
  /** Whether an index is ready or still being backfilled, and how many items this process's backfill covered. */
  status(name: string): Promise<IndexStatus>
  /** Creates or replaces an index and backfills it; false when the same definition was there. */
  define(definition: IndexDefinition, onProgress?: (covered: number) => void): Promise<boolean>
  drop(name: string): Promise<void>
  search(request: SearchRequest, now: number): Promise<L3SearchPage>
}

/** What an L3 offers for search (SQL stores do: `SqlStore.search`): indexes, and listings by prefix. */
export interface L3Search extends IndexSearch {
  /** Live items under `prefix` (with `state`), after `afterId`, at most `limit`. */
  list(
    query: { prefix: string; state?: string; afterId?: string; limit: number },
    now: number,
  ): Promise<L3ListingPage>
  /** How many live items are under `prefix` (with `state`). */
  count(query: { prefix: string; state?: string }, now: number): Promise<number>
}
