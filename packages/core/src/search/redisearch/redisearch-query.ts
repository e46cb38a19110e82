import type { IndexDefinition } from '../index-definition.ts'
import { MAX_TERM_BYTES } from '../search-projection.ts'
import type { SearchQuery } from '../search-query.ts'
import { textWords } from '../search-text.ts'
import { numberKey } from './number-key.ts'
import { highAttribute, lowAttribute, termsAttribute } from './redisearch-schema.ts'
import { encodeTerm } from './term-code.ts'

/**
 * A query of the model as a RediSearch query string (dialect 2), every value a parameter:
 *
 * - `eq` on a tag field, `tags`: `@f_f:{$p0|$p1}` on the tag codes (exact: codes survive the tag
 *   index untouched); `prefix`: `@f_f:{$p0*}` on the code of the prefix (a code prefix is a string
 *   prefix, see term-code.ts).
 * - `eq` and `range` on a numeric field: ranges over the two halves of the number key
 *   (number-key.ts), `x ≥ a` being `h > a.h | (h = a.h, l ≥ a.l)`; `(` makes a bound exclusive.
 * - `text`: one `@f_f:{$p}` per distinct word (its code), all of them; without a field, each word
 *   in any of the index's text fields.
 * - `and` a space, `or` `|`, `not` `-( … )`: RediSearch's NOT is the complement over the index's
 *   documents, so an item missing the field matches it, as in the evaluator.
 *
 * Every compound node is parenthesised, so no dialect precedence rule applies. A node that can
 * never match (a tag or a word too long to be indexed, a text query on an index without text
 * fields) is folded away before anything is sent: `false`; one that always matches is `true`.
 */
export type CompiledQuery = string | boolean

/** The PARAMS of one command: `$p0`, `$p1`, … in order of use, each used once. */
export class QueryParams {
  readonly #pairs: string[] = []

  /** A new parameter holding `value`; returns its reference (`$p3`). */
  add(value: string): string {
    const name = `p${this.#pairs.length / 2}`
    this.#pairs.push(name, value)
    return `$${name}`
  }

  /** `PARAMS <n> name value …`. */
  arguments(): (string | number)[] {
    return ['PARAMS', this.#pairs.length, ...this.#pairs]
  }
}

const encoder = new TextEncoder()
const indexable = (term: string) =>
  term.length * 3 <= MAX_TERM_BYTES || encoder.encode(term).byteLength <= MAX_TERM_BYTES

export function translateQuery(
  definition: IndexDefinition,
  query: SearchQuery,
  params: QueryParams,
): CompiledQuery {
  if ('and' in query) return allOf(query.and.map((inner) => translateQuery(definition, inner, params)))
  if ('or' in query) return anyOf(query.or.map((inner) => translateQuery(definition, inner, params)))
  if ('not' in query) {
    const inner = translateQuery(definition, query.not, params)
    return typeof inner === 'boolean' ? !inner : `-(${inner})`
  }
  if ('eq' in query) {
    const { field, value } = query.eq
    if (typeof value === 'number') return numberEquals(field, value, params)
    return tagsAny(field, [value], params)
  }
  if ('tags' in query) return tagsAny(query.tags.field, query.tags.any, params)
  if ('range' in query) {
    const { field, gte, gt, lte, lt } = query.range
    const low = gte ?? gt
    const high = lte ?? lt
    return allOf([
      low === undefined ? true : lowerBound(field, low, gt !== undefined, params),
      high === undefined ? true : upperBound(field, high, lt !== undefined, params),
    ])
  }
  if ('prefix' in query) {
    return `@${termsAttribute(query.prefix.field)}:{${params.add(encodeTerm(query.prefix.value))}*}`
  }
  const words = [...new Set(textWords(query.text.terms))]
  // A word too long to be indexed is a word no item has.
  if (!words.every(indexable)) return false
  const fields =
    query.text.field !== undefined
      ? [query.text.field]
      : Object.entries(definition.fields).flatMap(([name, field]) => (field.type === 'text' ? [name] : []))
  return allOf(words.map((word) => anyOf(fields.map((field) => tagsAny(field, [word], params)))))
}

function tagsAny(field: string, values: readonly string[], params: QueryParams): CompiledQuery {
  // A tag too long to be indexed is a tag no item has.
  const wanted = [...new Set(values)].filter(indexable)
  if (wanted.length === 0) return false
  return `@${termsAttribute(field)}:{${wanted.map((value) => params.add(encodeTerm(value))).join('|')}}`
}

/** `eq` on a number: both halves equal. */
function numberEquals(field: string, value: number, params: QueryParams): string {
  const key = numberKey(value)
  const h = `@${highAttribute(field)}:[${params.add(String(key.h))} ${params.add(String(key.h))}]`
  const l = `@${lowAttribute(field)}:[${params.add(String(key.l))} ${params.add(String(key.l))}]`
  return `(${h} ${l})`
}

/** `x ≥ a` (`x > a` when exclusive): a higher `h`, or the same `h` and a `l` at least `a`'s. */
function lowerBound(field: string, at: number, exclusive: boolean, params: QueryParams): string {
  const key = numberKey(at)
  const [h, l] = [highAttribute(field), lowAttribute(field)]
  const above = `@${h}:[(${params.add(String(key.h))} +inf]`
  const same = `@${h}:[${params.add(String(key.h))} ${params.add(String(key.h))}]`
  const rest = `@${l}:[${exclusive ? '(' : ''}${params.add(String(key.l))} +inf]`
  return `(${above}|(${same} ${rest}))`
}

/** `x ≤ a` (`x < a` when exclusive): a lower `h`, or the same `h` and a `l` at most `a`'s. */
function upperBound(field: string, at: number, exclusive: boolean, params: QueryParams): string {
  const key = numberKey(at)
  const [h, l] = [highAttribute(field), lowAttribute(field)]
  const below = `@${h}:[-inf (${params.add(String(key.h))}]`
  const same = `@${h}:[${params.add(String(key.h))} ${params.add(String(key.h))}]`
  const rest = `@${l}:[-inf ${exclusive ? '(' : ''}${params.add(String(key.l))}]`
  return `(${below}|(${same} ${rest}))`
}

/** AND: `false` if any is; `true` ones dropped; one left stands alone. */
export function allOf(parts: readonly CompiledQuery[]): CompiledQuery {
  if (parts.includes(false)) return false
  const strings = parts.filter((part): part is string => typeof part === 'string')
  if (strings.length === 0) return true
  return strings.length === 1 ? strings[0]! : `(${strings.join(' ')})`
}

/** OR: `true` if any is; `false` ones dropped; none left is `false`. */
export function anyOf(parts: readonly CompiledQuery[]): CompiledQuery {
  if (parts.includes(true)) return true
  const strings = parts.filter((part): part is string => typeof part === 'string')
  if (strings.length === 0) return false
  return strings.length === 1 ? strings[0]! : `(${strings.join('|')})`
}
