import { matchesQuery } from './evaluate-query.ts'
import type { IndexDefinition } from './index-definition.ts'
import { decodeCursor, encodeCursor, type SearchPosition } from './search-cursor.ts'
import { comparePositions } from './search-order.ts'
import { projectValue, sortValueOf } from './search-projection.ts'
import { checkQuery, type SearchRequest } from './search-query.ts'

/** One item as the evaluator takes it: id, version and its JSON value (parsed). */
export interface SearchDocument {
  readonly id: string
  readonly version: number
  readonly value: unknown
}

export interface SearchHit {
  readonly id: string
  readonly version: number
  readonly value?: unknown
}

export interface SearchPage {
  readonly items: readonly SearchHit[]
  /** Where the next page starts; null on the last page. */
  readonly cursor: string | null
}

interface Ranked {
  readonly document: SearchDocument
  /** The sort value; null when the item has none (it sorts last); undefined when unsorted. */
  readonly value: number | string | null | undefined
}

/**
 * The reference answer of a search over documents held in memory: the items under the index's
 * prefix whose projection matches, in id order (UTF-8 byte order) or by the sort field (ties by id
 * in the same direction; items without a sort value last, in either direction), one page of
 * `limit` after the cursor. Every backend must return exactly these ids in this order; pending
 * writes are evaluated with it too (read your writes).
 */
export function searchInMemory(
  definition: IndexDefinition,
  request: SearchRequest,
  documents: Iterable<SearchDocument>,
): SearchPage {
  checkQuery(definition, request.query, request.sort)
  const sortField = request.sort?.field
  const ranked: Ranked[] = []
  for (const document of documents) {
    if (!document.id.startsWith(definition.prefix)) continue
    const projection = projectValue(definition, document.value)
    if (!matchesQuery(request.query, projection)) continue
    const value = sortField === undefined ? undefined : (sortValueOf(projection, sortField) ?? null)
    ranked.push({ document, value })
  }
  const order = request.sort?.order ?? 'asc'
  const compare = (a: Ranked, b: Ranked) => compareRanked(a, b, order)
  ranked.sort(compare)
  let start = 0
  if (request.cursor !== undefined) {
    const at = decodeCursor(request.cursor, definition.name, request.query, request.sort)
    const position: Ranked = {
      document: { id: at.id, version: 0, value: undefined },
      value: sortField === undefined ? undefined : (at.value ?? null),
    }
    while (start < ranked.length && compare(ranked[start]!, position) <= 0) start++
  }
  const page = ranked.slice(start, start + request.limit)
  const more = start + request.limit < ranked.length
  const last = page.at(-1)
  return {
    items: page.map(({ document }) => ({
      id: document.id,
      version: document.version,
      ...(request.values && { value: document.value }),
    })),
    cursor:
      more && last
        ? encodeCursor(
            definition.name,
            request.query,
            request.sort,
            positionOf(last, sortField !== undefined),
          )
        : null,
  }
}

function positionOf(ranked: Ranked, sorted: boolean): SearchPosition {
  return sorted ? { id: ranked.document.id, value: ranked.value ?? null } : { id: ranked.document.id }
}

function compareRanked(a: Ranked, b: Ranked, order: 'asc' | 'desc'): number {
  return comparePositions(
    { id: a.document.id, ...(a.value !== undefined && { value: a.value }) },
    { id: b.document.id, ...(b.value !== undefined && { value: b.value }) },
    order,
  )
}
