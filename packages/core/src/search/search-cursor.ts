import { decodeBase64Url, encodeBase64Url } from '../encoding/base64.ts'
import { fnv1a32 } from '../encoding/fnv1a.ts'
import { InvalidArgumentError } from '../errors.ts'
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
  return encodeBase64Url(JSON.stringify({ ...at, h: queryHash(index, query, sort) }))
}

export function decodeCursor(
  cursor: string,
  index: string,
  query: SearchQuery,
  sort: SearchSort | undefined,
): SearchPosition {
  let parsed: unknown
  try {
    parsed = JSON.parse(decodeBase64Url(cursor))
  } catch {
    throw new InvalidArgumentError('cursor: not a cursor this API gave out')
  }
  const position = parsed as { id?: unknown; value?: unknown; h?: unknown }
  const valueOk =
    position.value === undefined ||
    position.value === null ||
    ['number', 'string'].includes(typeof position.value)
  if (typeof position.id !== 'string' || !valueOk || typeof position.h !== 'string') {
    throw new InvalidArgumentError('cursor: not a cursor this API gave out')
  }
  if (position.h !== queryHash(index, query, sort)) {
    throw new InvalidArgumentError(
      'cursor: it belongs to another query (index, query and sort must stay the same)',
    )
  }
  return {
    id: position.id,
    ...(position.value !== undefined && { value: position.value as number | string | null }),
  }
}

function queryHash(index: string, query: SearchQuery, sort: SearchSort | undefined): string {
  return fnv1a32(JSON.stringify([index, query, sort ?? null])).toString(36)
}
