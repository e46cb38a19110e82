import type { SqlStatement } from '../../l3/sql-transport.ts'
import type { IndexDefinition } from '../index-definition.ts'
import type { SearchPosition } from '../search-cursor.ts'
import type { SearchQuery, SearchRequest } from '../search-query.ts'
import { textWords } from '../search-text.ts'
import { type SearchSqlDialect, searchTables } from './search-sql-dialect.ts'

/**
 * The smallest string greater than every string that starts with `prefix`, in code point order
 * (which is UTF-8 byte order, the order of the SQL columns): `id >= prefix AND id < successor`
 * is an index range, where `LIKE` needs escaping and is not one on every backend. Undefined when
 * no such string exists (a prefix of U+10FFFF only).
 */
export function prefixSuccessor(prefix: string): string | undefined {
  const points = [...prefix].map((char) => char.codePointAt(0)!)
  while (points.length > 0) {
    const last = points.pop()!
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1
      return String.fromCodePoint(...points, next)
    }
  }
  return undefined
}

/**
 * One search page as one SQL statement over the side tables: each operator is an `id IN
 * (SELECT id FROM <side> WHERE ix = ? AND f = ? AND …)` that its table's key serves as a range;
 * `not` is `NOT (…)` (an item without the field is in no side row, so it matches `not`, as in the
 * reference semantics); the items table adds the prefix range, liveness and the keyset position.
 * Every value is a bound parameter. Selects `limit + 1` rows: one more says there is a next page.
 */
export function searchStatement(
  dialect: SearchSqlDialect,
  table: string,
  definition: IndexDefinition,
  request: SearchRequest,
  position: SearchPosition | undefined,
  now: number,
): SqlStatement {
  const q = dialect.quote
  const t = searchTables(table)
  const params: (string | number)[] = []
  /** `condition` is over the side table's value column (`v`, or `w` for words). */
  const from = (side: string, field: string | undefined, condition: string, values: (string | number)[]) => {
    params.push(definition.name, ...(field === undefined ? [] : [field]), ...values)
    const fieldTest = field === undefined ? '' : ' AND f = ?'
    return `i.id IN (SELECT id FROM ${q(side)} WHERE ix = ?${fieldTest} AND ${condition})`
  }
  const translate = (query: SearchQuery): string => {
    if ('and' in query) return `(${query.and.map(translate).join(' AND ')})`
    if ('or' in query) return `(${query.or.map(translate).join(' OR ')})`
    if ('not' in query) return `NOT (${translate(query.not)})`
    if ('eq' in query) {
      const numeric = definition.fields[query.eq.field]?.type === 'numeric'
      return from(numeric ? t.numbers : t.tags, query.eq.field, 'v = ?', [query.eq.value])
    }
    if ('tags' in query) {
      const values = [...new Set(query.tags.any)]
      return from(t.tags, query.tags.field, `v IN (${values.map(() => '?').join(', ')})`, values)
    }
    if ('range' in query) {
      const { gte, gt, lte, lt } = query.range
      const bounds: string[] = []
      const values: number[] = []
      for (const [op, bound] of [
        ['>=', gte],
        ['>', gt],
        ['<=', lte],
        ['<', lt],
      ] as const) {
        if (bound === undefined) continue
        bounds.push(`v ${op} ?`)
        values.push(bound)
      }
      return from(t.numbers, query.range.field, bounds.join(' AND '), values)
    }
    if ('prefix' in query) {
      const upper = prefixSuccessor(query.prefix.value)
      return upper === undefined
        ? from(t.tags, query.prefix.field, 'v >= ?', [query.prefix.value])
        : from(t.tags, query.prefix.field, 'v >= ? AND v < ?', [query.prefix.value, upper])
    }
    const words = [...new Set(textWords(query.text.terms))]
    return `(${words.map((word) => from(t.words, query.text.field, 'w = ?', [word])).join(' AND ')})`
  }

  const where: string[] = [translate(request.query)]
  const base: (string | number)[] = []
  if (definition.prefix !== '') {
    const upper = prefixSuccessor(definition.prefix)
    where.unshift(upper === undefined ? 'i.id >= ?' : 'i.id >= ? AND i.id < ?')
    base.push(definition.prefix, ...(upper === undefined ? [] : [upper]))
  }
  where.unshift("i.tombstone = 0 AND i.content_type = 'json' AND (i.expires_at IS NULL OR i.expires_at > ?)")
  base.unshift(now)

  const sort = request.sort
  const descending = sort?.order === 'desc'
  const after = descending ? '<' : '>'
  let join = ''
  const joinParams: (string | number)[] = []
  const keyset: string[] = []
  const keysetParams: (string | number)[] = []
  if (sort !== undefined) {
    const numeric = definition.fields[sort.field]?.type === 'numeric'
    const side = q(numeric ? t.numbers : t.tags)
    join = ` LEFT JOIN ${side} s ON s.ix = ? AND s.f = ? AND s.id = i.id${numeric ? '' : ' AND s.ord = 0'}`
    joinParams.push(definition.name, sort.field)
    if (position !== undefined) {
      if (position.value === null || position.value === undefined) {
        keyset.push(`s.v IS NULL AND i.id ${after} ?`)
        keysetParams.push(position.id)
      } else {
        keyset.push(`(s.v IS NULL OR s.v ${after} ? OR (s.v = ? AND i.id ${after} ?))`)
        keysetParams.push(position.value, position.value, position.id)
      }
    }
  } else if (position !== undefined) {
    keyset.push('i.id > ?')
    keysetParams.push(position.id)
  }
  const direction = descending ? ' DESC' : ''
  const order =
    sort === undefined ? 'i.id' : `CASE WHEN s.v IS NULL THEN 1 ELSE 0 END, s.v${direction}, i.id${direction}`
  const columns = sort === undefined ? 'i.id, i.version' : 'i.id, i.version, s.v AS sort_value'
  return {
    sql:
      `SELECT ${columns} FROM ${q(table)} i${join} WHERE ${[...where, ...keyset].join(' AND ')} ` +
      `ORDER BY ${order} LIMIT ?`,
    params: [...joinParams, ...base, ...params, ...keysetParams, request.limit + 1],
  }
}
