import { MAX_TERM_BYTES } from '../search-projection.ts'
import { textWords } from '../search-text.ts'
import { numberKey } from './number-key.ts'
import { encodeTerm } from './term-code.ts'

/**
 * What RediSearch indexes of one item: the `x` member of its `j:` JSON document, written by every
 * L2 write and independent of any index definition (an index created later backfills from the
 * documents already there, so they cannot depend on which indexes exist):
 *
 *   { i: <term code of the id>, e: <expires at, epoch ms; 0 for never>,
 *     p: { "<dotted path>": { t?: [tag codes], w?: [word codes], h?: n, l?: n } } }
 *
 * One leaf per path through objects whose every name an index path can address (`a.b` for
 * `$.a.b`), holding what the projection of search-projection.ts takes from the value there for
 * each field type: the tags (`t`), the words (`w`), the number as its `number-key.ts` halves
 * (`h`, `l`). Every leaf member always has one JSON type (arrays of strings, integers), so no
 * value can ever make RediSearch drop a document for a type mismatch; tags and words over
 * `MAX_TERM_BYTES` are left out as they are everywhere. Words are indexed as TAGs of their term
 * codes, not as TEXT: RediSearch's tokenizer, case folding, stemming, stopwords and term length
 * limits then never see them, and a word matches exactly the words of `textWords`.
 */
export interface SearchLeaf {
  readonly t?: readonly string[]
  readonly w?: readonly string[]
  readonly h?: number
  readonly l?: number
}

export interface SearchProjectionDocument {
  readonly i: string
  readonly e: number
  readonly p: Readonly<Record<string, SearchLeaf>>
}

/** A property name an index path can address (index-definition.ts `PATH`). */
const ADDRESSABLE = /^[A-Za-z_][A-Za-z0-9_]*$/
const encoder = new TextEncoder()
const fits = (term: string) =>
  term.length * 3 <= MAX_TERM_BYTES || encoder.encode(term).byteLength <= MAX_TERM_BYTES

export function searchProjectionDocument(
  id: string,
  value: unknown,
  expiresAt: number,
): SearchProjectionDocument {
  const leaves: [string, SearchLeaf][] = []
  collectLeaves(value, '', leaves)
  // fromEntries defines own properties, so a `__proto__` path stays a path.
  return { i: encodeTerm(id), e: expiresAt, p: Object.fromEntries(leaves) }
}

function collectLeaves(value: unknown, path: string, into: [string, SearchLeaf][]): void {
  if (!isObject(value)) return
  for (const [name, inner] of Object.entries(value)) {
    if (!ADDRESSABLE.test(name)) continue
    const at = path === '' ? name : `${path}.${name}`
    const leaf = leafOf(inner)
    if (leaf !== undefined) into.push([at, leaf])
    collectLeaves(inner, at, into)
  }
}

/** The leaf of one value: what a tag, a numeric and a text field at its path would each hold. */
export function leafOf(found: unknown): SearchLeaf | undefined {
  if (found === undefined || found === null || isObject(found)) return undefined
  if (typeof found === 'number') return Number.isFinite(found) ? numberKey(found) : undefined
  const parts = Array.isArray(found) ? found : [found]
  const tags = unique(parts.flatMap(tagOf).filter(fits))
  const strings = parts.filter((part): part is string => typeof part === 'string')
  const words = unique(textWords(strings.join(' ')).filter(fits))
  if (tags.length === 0 && words.length === 0) return undefined
  return {
    ...(tags.length > 0 && { t: tags.map(encodeTerm) }),
    ...(words.length > 0 && { w: words.map(encodeTerm) }),
  }
}

function tagOf(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (typeof value === 'boolean') return [String(value)]
  return []
}

/** Each once, in first-seen order: the first tag is what a tag field sorts by. */
function unique(values: readonly string[]): string[] {
  return [...new Set(values)]
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
