import { compareCodePoints } from './id-order.ts'
import type { SearchPosition } from './search-cursor.ts'

/**
 * The one order of search results, for every source that ranks them (the evaluator, a merge of
 * partitions or of pending writes): by sort value, then id, both in `order`; a missing value
 * (null) after every present one, in either direction; without a sort (value undefined), id order
 * (code point order, the byte order of UTF-8).
 */
export function comparePositions(a: SearchPosition, b: SearchPosition, order: 'asc' | 'desc'): number {
  const sign = order === 'asc' ? 1 : -1
  if (a.value !== undefined || b.value !== undefined) {
    const av = a.value ?? null
    const bv = b.value ?? null
    if (av === null || bv === null) {
      if (av !== bv) return av === null ? 1 : -1
    } else if (av !== bv) {
      const byValue =
        typeof av === 'number' && typeof bv === 'number' ? av - bv : compareCodePoints(String(av), String(bv))
      if (byValue !== 0) return sign * byValue
    }
  }
  return sign * compareCodePoints(a.id, b.id)
}
