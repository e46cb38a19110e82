import type { SearchPosition } from './search-cursor.ts'
import { comparePositions } from './search-order.ts'

/** One result as a source ranks it: id, version and, when sorted, its sort value (null: none). */
export interface RankedHit {
  readonly id: string
  readonly version: number
  readonly sortValue?: number | string | null
}

/** One source's page after a cursor, in the result order, and whether it holds more after it. */
export interface RankedSource {
  readonly items: readonly RankedHit[]
  readonly more: boolean
}

export function positionOfHit(hit: RankedHit, sorted: boolean): SearchPosition {
  return sorted ? { id: hit.id, value: hit.sortValue ?? null } : { id: hit.id }
}

/**
 * One page from several sources that each answered the same request after the same cursor
 * (partitions, or L3 and this engine's pending writes). Nothing past the earliest last item of a
 * source that has more may be taken: that source's next items could come before it. Within that
 * bound the union is sorted and cut at `limit`. Ids must be distinct across sources.
 */
export function mergeRanked(
  sources: readonly RankedSource[],
  limit: number,
  sorted: boolean,
  order: 'asc' | 'desc',
): RankedSource {
  const compare = (a: RankedHit, b: RankedHit) =>
    comparePositions(positionOfHit(a, sorted), positionOfHit(b, sorted), order)
  let bound: RankedHit | undefined
  let more = false
  for (const source of sources) {
    const last = source.items.at(-1)
    if (!source.more || last === undefined) continue
    more = true
    if (bound === undefined || compare(last, bound) < 0) bound = last
  }
  const union: RankedHit[] = []
  for (const source of sources) {
    for (const hit of source.items) if (bound === undefined || compare(hit, bound) <= 0) union.push(hit)
  }
  union.sort(compare)
  return { items: union.slice(0, limit), more: more || union.length > limit }
}
