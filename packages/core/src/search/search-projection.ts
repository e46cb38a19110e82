import { type IndexDefinition, pathSegments } from './index-definition.ts'
import { textWords } from './search-text.ts'

/**
 * What an index sees of one JSON value, per field: the tags (strings; a boolean is `"true"` /
 * `"false"`; an array gives each of its strings and booleans), the number (a finite JSON number
 * only: `"42"` is a string, not a number), or the set of words of the text (a string, or an
 * array's strings joined). A value of another type is missing, as is an absent path: it never
 * fails a write and never matches (so `not` matches it). Every backend indexes this projection,
 * not the raw JSON, which is what makes their answers the same.
 */
export type FieldValue =
  | { readonly type: 'tag'; readonly tags: readonly string[] }
  | { readonly type: 'numeric'; readonly value: number }
  | { readonly type: 'text'; readonly words: ReadonlySet<string>; readonly text: string }

export type Projection = ReadonlyMap<string, FieldValue>

/**
 * Tags and words longer than this (UTF-8 bytes) are not indexed: an SQL index key has a bounded
 * length (MariaDB's InnoDB keys), and a tag that long is a value, not a tag. The same on every
 * backend, so they all answer alike.
 */
export const MAX_TERM_BYTES = 255
const encoder = new TextEncoder()
const fits = (term: string) =>
  term.length * 3 <= MAX_TERM_BYTES || encoder.encode(term).byteLength <= MAX_TERM_BYTES

export function projectValue(definition: IndexDefinition, value: unknown): Projection {
  const projection = new Map<string, FieldValue>()
  for (const [name, field] of Object.entries(definition.fields)) {
    const found = valueAt(value, pathSegments(field.path))
    if (found === undefined || found === null) continue
    if (field.type === 'numeric') {
      if (typeof found === 'number' && Number.isFinite(found))
        projection.set(name, { type: 'numeric', value: found })
    } else if (field.type === 'tag') {
      // Each tag once, in first-seen order (the first is what a tag field sorts by).
      const tags = [...new Set((Array.isArray(found) ? found : [found]).flatMap(tagOf).filter(fits))]
      if (tags.length > 0) projection.set(name, { type: 'tag', tags })
    } else {
      const strings = (Array.isArray(found) ? found : [found]).filter((part) => typeof part === 'string')
      const words = textWords(strings.join(' ')).filter(fits)
      if (words.length > 0)
        projection.set(name, { type: 'text', words: new Set(words), text: words.join(' ') })
    }
  }
  return projection
}

function tagOf(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (typeof value === 'boolean') return [String(value)]
  return []
}

function valueAt(value: unknown, segments: readonly string[]): unknown {
  let at = value
  for (const segment of segments) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return undefined
    if (!Object.hasOwn(at, segment)) return undefined
    at = (at as Record<string, unknown>)[segment]
  }
  return at
}

/** The value a sortable field sorts by: the number, or the first tag; undefined when missing. */
export function sortValueOf(projection: Projection, field: string): number | string | undefined {
  const value = projection.get(field)
  if (value === undefined) return undefined
  if (value.type === 'numeric') return value.value
  if (value.type === 'tag') return value.tags[0]
  return undefined
}
