import type { SearchPosition } from './search-cursor.ts'
import { comparePositions } from './search-order.ts'

/** One result as a source ranks it: id, version and, when sorted, its sort value (null: none). */
export interface RankedHit {
  readonly id: string
  readonly version: number
  readonly sortValue?: number | string | null
}

/** One source's page after a cursor, in the result order, and whether it holds more after it. */
export interface RankedSource<T extends RankedHit = RankedHit> {
  readonly items: readonly T[]
  readonly more: boolean
  /**
   * Where the source's page ended, when it is not its last item (items were taken out of it
   * after it answered): nothing past it may be taken while it has more.
   */
  readonly end?: RankedHit
}

export interface MergedPage<T extends RankedHit> {
  readonly items: readonly T[]
  readonly more: boolean
  /** The position the next page starts after: the last item, or the bound when none was taken. */
  readonly end: RankedHit | undefined
}

export function positionOfHit(hit: RankedHit, sorted: boolean): SearchPosition {
  return sorted ? { id: hit.id, value: hit.sortValue ?? null } : { id: hit.id }
}

/**
 * One page from several sources that each answered the same request after the same cursor
 * (partitions, or L3 and this engine's pending writes). Nothing past the earliest end of a source
 * that has more may be taken: that source's next items could come before it. Within that bound
 * the union is sorted and cut at `limit`. Ids must be distinct across sources.
 */
export function mergeRanked<T extends RankedHit>(
  sources: readonly RankedSource<T>[],
  limit: number,
  sorted: boolean,
  order: 'asc' | 'desc',
): MergedPage<T> {
  const compare = (a: RankedHit, b: RankedHit) =>
    comparePositions(positionOfHit(a, sorted), positionOfHit(b, sorted), order)
  let bound: RankedHit | undefined
  let more = false
  for (const source of sources) {
    if (!source.more) continue
    more = true
    const end = source.end ?? source.items.at(-1)
    if (end !== undefined && (bound === undefined || compare(end, bound) < 0)) bound = end
  }
  const union: T[] = []
  for (const source of sources) {
    for (const hit of source.items) if (bound === undefined || compare(hit, bound) <= 0) union.push(hit)
  }
  union.sort(compare)
  const items = union.slice(0, limit)
  return { items, more: more || union.length > limit, end: items.at(-1) ?? bound }
}
