import type { Projection } from './search-projection.ts'
import type { SearchQuery } from './search-query.ts'
import { textWords } from './search-text.ts'

/**
 * The reference semantics of the query model, over one item's projection (see docs/search.md):
 * `eq` — a tag field holds exactly that string (case and every byte count), or a numeric field
 * that number; `tags` — any of the strings; `range` — the number within the bounds; `text` — every
 * word of the terms is a word of the field (or, without a field, of some text field); `prefix` —
 * a tag starts with the value, literally; `not` — the inner query does not match, which a missing
 * field never does.
 */
export function matchesQuery(query: SearchQuery, projection: Projection): boolean {
  if ('and' in query) return query.and.every((inner) => matchesQuery(inner, projection))
  if ('or' in query) return query.or.some((inner) => matchesQuery(inner, projection))
  if ('not' in query) return !matchesQuery(query.not, projection)
  if ('eq' in query) {
    const value = projection.get(query.eq.field)
    if (value?.type === 'tag') return value.tags.includes(query.eq.value as string)
    return value?.type === 'numeric' && value.value === query.eq.value
  }
  if ('tags' in query) {
    const value = projection.get(query.tags.field)
    return value?.type === 'tag' && value.tags.some((tag) => query.tags.any.includes(tag))
  }
  if ('range' in query) {
    const value = projection.get(query.range.field)
    if (value?.type !== 'numeric') return false
    const { gte, gt, lte, lt } = query.range
    const n = value.value
    return (
      (gte === undefined || n >= gte) &&
      (gt === undefined || n > gt) &&
      (lte === undefined || n <= lte) &&
      (lt === undefined || n < lt)
    )
  }
  if ('prefix' in query) {
    const value = projection.get(query.prefix.field)
    return value?.type === 'tag' && value.tags.some((tag) => tag.startsWith(query.prefix.value))
  }
  const words = textWords(query.text.terms)
  const field = query.text.field
  if (field !== undefined) {
    const value = projection.get(field)
    return value?.type === 'text' && words.every((word) => value.words.has(word))
  }
  return words.every((word) => {
    for (const value of projection.values()) if (value.type === 'text' && value.words.has(word)) return true
    return false
  })
}
