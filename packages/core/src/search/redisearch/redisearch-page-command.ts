import type { RedisCommand } from '../../l2/redis-transport.ts'
import type { IndexDefinition } from '../index-definition.ts'
import type { SearchQuery, SearchSort } from '../search-query.ts'
import { numberKey } from './number-key.ts'
import { QueryParams, translateQuery } from './redisearch-query.ts'
import {
  EXPIRES_ATTRIBUTE,
  firstTagAttribute,
  highAttribute,
  ID_ATTRIBUTE,
  lowAttribute,
  termsAttribute,
  VERSION_ATTRIBUTE,
} from './redisearch-schema.ts'
import { encodeTerm } from './term-code.ts'

/**
 * One FT.AGGREGATE for (part of) a page, in the evaluator's order:
 *
 * - Unsorted: `SORTBY @i_id`, the id's term code, whose byte order is code point order.
 * - Sorted: FT.SEARCH's SORTBY takes one key and RediSearch puts items missing a sort key first or
 *   last depending on version and direction, so a sorted page is two phases. `valued`: items with
 *   a value (`-ismissing(…)`), `SORTBY` the value's keys (the first tag's code, or the number
 *   key's halves) then `@i_id`, all in the sort's direction. `missing`: items without one
 *   (`ismissing(…)`), by `@i_id` in the same direction. The first phase's items all come before
 *   the second's, in either direction, as the evaluator has it.
 * - Keyset: the position after which the page starts is a FILTER comparing the same keys
 *   lexicographically (`k > v || (k == v && …)`), in the direction of the sort; FILTER takes no
 *   parameters, but every value in it is a term code or an integer below 2^32, which need no
 *   escaping and parse exactly. A numeric position also narrows the query (`@h_f:[h +inf]`).
 * - `LIMIT 0 n` after `SORTBY … MAX n` keeps only n rows in the sorter. Every value of the query
 *   is a PARAMS parameter; DIALECT 2 (PARAMS and `ismissing` need it; the server default is 1);
 *   TIMEOUT as given (0: none, since a timed-out query would return a partial page silently under
 *   the server's default `search-on-timeout return`).
 */
export type PagePhase = 'all' | 'valued' | 'missing'

export interface PageCommandInput {
  readonly index: string
  readonly definition: IndexDefinition
  readonly query: SearchQuery
  readonly sort?: SearchSort
  readonly phase: PagePhase
  /** The position the page continues after: the id, and the sort value in the `valued` phase. */
  readonly after?: { readonly id: string; readonly value?: number | string }
  /** Rows to return. */
  readonly rows: number
  readonly now: number
  readonly timeoutMs: number
}

/** The command, or undefined when the query can never match (nothing to ask). */
export function pageCommand(input: PageCommandInput): RedisCommand | undefined {
  const { definition, sort, phase, after } = input
  const params = new QueryParams()
  const translated = translateQuery(definition, input.query, params)
  if (translated === false) return undefined
  const clauses = translated === true ? [] : [translated]
  clauses.push(`@${EXPIRES_ATTRIBUTE}:[0 0]|@${EXPIRES_ATTRIBUTE}:[(${params.add(String(input.now))} +inf]`)
  const descending = sort?.order === 'desc'
  // The sort keys, each with the position's value as a FILTER literal (when continuing).
  const keys: [attribute: string, literal: string | undefined][] = []
  if (phase !== 'all') {
    if (sort === undefined) throw new RangeError(`a ${phase} phase needs a sort`)
    const numeric = definition.fields[sort.field]?.type === 'numeric'
    const presence = numeric ? highAttribute(sort.field) : termsAttribute(sort.field)
    clauses.push(phase === 'valued' ? `-ismissing(@${presence})` : `ismissing(@${presence})`)
    if (phase === 'valued') {
      const value = after?.value
      if (after !== undefined && value === undefined) throw new RangeError('a valued position needs a value')
      if (numeric) {
        const key = value === undefined ? undefined : numberKey(value as number)
        keys.push(
          [highAttribute(sort.field), key && String(key.h)],
          [lowAttribute(sort.field), key && String(key.l)],
        )
        if (key !== undefined) {
          const h = params.add(String(key.h))
          clauses.push(`@${highAttribute(sort.field)}:[${descending ? `-inf ${h}` : `${h} +inf`}]`)
        }
      } else {
        keys.push([
          firstTagAttribute(sort.field),
          value === undefined ? undefined : quoted(encodeTerm(value as string)),
        ])
      }
    }
  }
  keys.push([ID_ATTRIBUTE, after === undefined ? undefined : quoted(encodeTerm(after.id))])
  const direction = descending ? 'DESC' : 'ASC'
  return [
    'FT.AGGREGATE',
    input.index,
    clauses.map((clause) => `(${clause})`).join(' '),
    'LOAD',
    1,
    `@${VERSION_ATTRIBUTE}`,
    'TIMEOUT',
    input.timeoutMs,
    ...(after === undefined ? [] : ['FILTER', keysetFilter(keys, descending ? '<' : '>')]),
    'SORTBY',
    keys.length * 2,
    ...keys.flatMap(([attribute]) => [`@${attribute}`, direction]),
    'MAX',
    input.rows,
    'LIMIT',
    0,
    input.rows,
    ...params.arguments(),
    'DIALECT',
    2,
  ]
}

/** `k1 > v1 || (k1 == v1 && (k2 > v2 || (k2 == v2 && …)))`: strictly after, key by key. */
function keysetFilter(keys: readonly [string, string | undefined][], after: '<' | '>'): string {
  const [first, ...rest] = keys
  if (first === undefined || first[1] === undefined) throw new RangeError('a keyset needs every key')
  const [attribute, literal] = first
  const beyond = `@${attribute} ${after} ${literal}`
  if (rest.length === 0) return beyond
  return `${beyond} || (@${attribute} == ${literal} && (${keysetFilter(rest, after)}))`
}

/** A FILTER string literal; only term codes come here, which hold no quote or backslash. */
function quoted(code: string): string {
  return `'${code}'`
}
