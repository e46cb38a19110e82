import { badCursor, openCursor, sealCursor } from './opaque-cursor.ts'
import type { SearchQuery, SearchSort } from './search-query.ts'

/** Where a page ended: the last item's sort value (absent: sorted without one, or it had none) and id. */
export interface SearchPosition {
  /** The sort value, `null` for an item missing it (those sort last); absent when not sorted. */
  readonly value?: number | string | null
  readonly id: string
}

/**
 * Opaque to clients: base64url of the position and a hash of what it is a position in (index,
 * query and sort), so a cursor replayed against another query is refused rather than skipping or
 * repeating items. Keyset, not an offset: writes between pages move nothing.
 */
export function encodeCursor(
  index: string,
  query: SearchQuery,
  sort: SearchSort | undefined,
  at: SearchPosition,
): string {
  return sealCursor(at, [index, query, sort ?? null])
}

export function decodeCursor(
  cursor: string,
  index: string,
  query: SearchQuery,
  sort: SearchSort | undefined,
): SearchPosition {
  const { id, value } = openCursor(
    cursor,
    [index, query, sort ?? null],
    'query (index, query and sort must stay the same)',
  )
  if (value !== undefined && value !== null && typeof value !== 'number' && typeof value !== 'string') {
    throw badCursor()
  }
  return { id, ...(value !== undefined && { value }) }
}
