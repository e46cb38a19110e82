import type { SqlStatement } from '../../l3/sql-transport.ts'
import type { IndexDefinition } from '../index-definition.ts'
import type { SearchPosition } from '../search-cursor.ts'
import type { SearchQuery, SearchRequest } from '../search-query.ts'
import { textWords } from '../search-text.ts'
import { type SearchSqlDialect, searchTables } from './search-sql-dialect.ts'

type Param = string | number

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
 * "`column` starts with `prefix`" as an index range, `column >= prefix AND column < successor`, and
 * its parameters: no `LIKE`, so `%`, `_` and `*` need no escaping and every backend plans a range.
 */
export function prefixRange(column: string, prefix: string): { sql: string; params: string[] } {
  const upper = prefixSuccessor(prefix)
  return upper === undefined
    ? { sql: `${column} >= ?`, params: [prefix] }
    : { sql: `${column} >= ? AND ${column} < ?`, params: [prefix, upper] }
}

/**
 * How one page is read: the items that have the sort value (or every match, unsorted) in one
 * statement of `limit + 1` rows, then — sorted only, when that page was not full — the matches
 * without a sort value, which come last (`missing(rows)` takes the rows still wanted, plus one).
 */
export interface SearchPlan {
  readonly valued: SqlStatement | undefined
  readonly missing: ((rows: number) => SqlStatement) | undefined
}

/**
 * A page as SQL that reads an index range already in page order and stops at the page, instead of
 * collecting every match first:
 * - sorted: the sort field's side rows in `(v, id)` order (a `range` on that field narrows them),
 *   then the items missing the value in id order;
 * - unsorted: one `eq` or `text` term's side rows, which are in id order; a `tags` query as one such
 *   range per value, each cut at the page, merged by UNION; otherwise the items table in id order.
 * Every other condition is a correlated `EXISTS` probe of a side table by id (its id index holds the
 * whole key, so a probe reads only that item's rows); `not` is `NOT (…)` (an item without the field
 * has no row, so it matches `not`, as in the reference semantics). The items table brings the
 * prefix range, liveness and the version. Every value is a bound parameter.
 */
export function searchPlan(
  dialect: SearchSqlDialect,
  table: string,
  definition: IndexDefinition,
  request: SearchRequest,
  position: SearchPosition | undefined,
  now: number,
  driver?: DriverTerm,
): SearchPlan {
  const q = dialect.quote
  const t = searchTables(table)
  const fieldType = (field: string) => definition.fields[field]?.type
  const conjuncts = 'and' in request.query ? request.query.and : [request.query]
  const items = q(table)

  /**
   * A condition on the item whose id is `column`, and its parameters in order. Correlated with the
   * driving rows' id rather than the items table's, so it is tested before the item row is read.
   */
  const probe = (query: SearchQuery, params: Param[], column: string): string => {
    const exists = (side: string, field: string | undefined, condition: string, values: Param[]) => {
      params.push(definition.name, ...(field === undefined ? [] : [field]), ...values)
      const fieldTest = field === undefined ? '' : ' AND x.f = ?'
      return `EXISTS (SELECT 1 FROM ${q(side)} x WHERE x.ix = ?${fieldTest} AND ${condition} AND x.id = ${column})`
    }
    if ('and' in query) return `(${query.and.map((part) => probe(part, params, column)).join(' AND ')})`
    if ('or' in query) return `(${query.or.map((part) => probe(part, params, column)).join(' OR ')})`
    if ('not' in query) return `NOT (${probe(query.not, params, column)})`
    if ('eq' in query) {
      const side = fieldType(query.eq.field) === 'numeric' ? t.numbers : t.tags
      return exists(side, query.eq.field, 'x.v = ?', [query.eq.value])
    }
    if ('tags' in query) {
      const values = [...new Set(query.tags.any)]
      return exists(t.tags, query.tags.field, `x.v IN (${values.map(() => '?').join(', ')})`, values)
    }
    if ('range' in query) {
      const { sql, values } = bounds('x.v', query.range)
      return exists(t.numbers, query.range.field, sql, values)
    }
    if ('prefix' in query) {
      const range = prefixRange('x.v', query.prefix.value)
      return exists(t.tags, query.prefix.field, range.sql, range.params)
    }
    const words = [...new Set(textWords(query.text.terms))]
    return `(${words.map((word) => exists(t.words, query.text.field, 'x.w = ?', [word])).join(' AND ')})`
  }

  /** Liveness, the index's prefix on `column`, and the probes of `rest`: the WHERE of every plan. */
  const filters = (column: string, rest: readonly SearchQuery[], params: Param[]): string[] => {
    const where = [
      "i.tombstone = 0 AND i.content_type = 'json' AND (i.expires_at IS NULL OR i.expires_at > ?)",
    ]
    params.push(now)
    if (definition.prefix !== '') {
      const range = prefixRange(column, definition.prefix)
      where.push(range.sql)
      params.push(...range.params)
    }
    for (const part of rest) where.push(probe(part, params, column))
    return where
  }

  const sort = request.sort
  if (sort !== undefined) return sortedPlan(sort.field, sort.order === 'desc')

  // Unsorted: id order from the first term whose side rows are in id order.
  const after = position === undefined ? [] : [position.id]
  const drivenBy = (side: string, keyTest: string, keyValues: Param[], rest: readonly SearchQuery[]) => {
    const params: Param[] = [definition.name, ...keyValues]
    const where = [`d.ix = ? AND ${keyTest}`, ...filters('d.id', rest, params)]
    if (position !== undefined) where.push('d.id > ?')
    params.push(...after, request.limit + 1)
    return {
      sql: `SELECT d.id AS id, i.version AS version FROM ${q(side)} d JOIN ${items} i ON i.id = d.id WHERE ${where.join(' AND ')} ORDER BY d.id LIMIT ?`,
      params,
    }
  }
  const others = (index: number) => conjuncts.filter((_, n) => n !== index)
  // The driving term: the one given (the rarest, where the caller counted), else the first.
  const term = driver ?? driverTerms(definition, request.query)[0]
  if (term !== undefined) {
    const part = conjuncts[term.conjunct]!
    const rest = [...others(term.conjunct)]
    if ('text' in part) {
      const more = [...new Set(textWords(part.text.terms))].filter((word) => word !== term.value)
      if (more.length > 0) rest.push({ text: { field: term.field, terms: more.join(' ') } })
    }
    const key = term.side === 'words' ? 'd.f = ? AND d.w = ?' : 'd.f = ? AND d.v = ?'
    return only(drivenBy(t[term.side], key, [term.field, term.value], rest))
  }
  for (const [index, part] of conjuncts.entries()) {
    if ('tags' in part) {
      const branches = [...new Set(part.tags.any)].map((value) =>
        drivenBy(t.tags, 'd.f = ? AND d.v = ?', [part.tags.field, value], others(index)),
      )
      return only({
        sql: `SELECT u.id, u.version FROM (${branches.map((b, n) => `SELECT * FROM (${b.sql}) b${n}`).join(' UNION ')}) u ORDER BY u.id LIMIT ?`,
        params: [...branches.flatMap((b) => b.params), request.limit + 1],
      })
    }
  }
  const params: Param[] = []
  const where = filters('i.id', conjuncts, params)
  if (position !== undefined) where.push('i.id > ?')
  params.push(...after, request.limit + 1)
  return only({
    sql: `SELECT i.id AS id, i.version AS version FROM ${items} i WHERE ${where.join(' AND ')} ORDER BY i.id LIMIT ?`,
    params,
  })

  function sortedPlan(field: string, descending: boolean): SearchPlan {
    const numeric = fieldType(field) === 'numeric'
    const side = q(numeric ? t.numbers : t.tags)
    const direction = descending ? ' DESC' : ''
    const later = descending ? '<' : '>'
    const earlier = descending ? '<=' : '>='
    // A range on the sort field itself is the driving range: no probe, and no item without the value matches.
    const narrowing = numeric
      ? conjuncts.findIndex((part) => 'range' in part && part.range.field === field)
      : -1
    const range = narrowing >= 0 ? conjuncts[narrowing] : undefined
    const rest = conjuncts.filter((_, n) => n !== narrowing)
    let valued: SqlStatement | undefined
    if (position === undefined || (position.value !== null && position.value !== undefined)) {
      const params: Param[] = [definition.name, field]
      const where = [`s.ix = ? AND s.f = ?${numeric ? '' : ' AND s.ord = 0'}`]
      if (range !== undefined && 'range' in range) {
        const { sql, values } = bounds('s.v', range.range)
        where.push(sql)
        params.push(...values)
      }
      where.push(...filters('s.id', rest, params))
      if (position?.value !== undefined && position.value !== null) {
        // Keyset on (v, id), written so both planners keep it a range of the (ix, f, v, id) key.
        where.push(`s.v ${earlier} ? AND (s.v ${later} ? OR s.id ${later} ?)`)
        params.push(position.value, position.value, position.id)
      }
      params.push(request.limit + 1)
      valued = {
        sql:
          `SELECT s.id AS id, i.version AS version, s.v AS sort_value FROM ${side} s JOIN ${items} i ON i.id = s.id ` +
          `WHERE ${where.join(' AND ')} ORDER BY s.v${direction}, s.id${direction} LIMIT ?`,
        params,
      }
    }
    const missing =
      range !== undefined
        ? undefined
        : (rows: number): SqlStatement => {
            const params: Param[] = []
            const where = filters('i.id', rest, params)
            where.push(
              `NOT EXISTS (SELECT 1 FROM ${side} x WHERE x.ix = ? AND x.f = ?${numeric ? '' : ' AND x.ord = 0'} AND x.id = i.id)`,
            )
            params.push(definition.name, field)
            if (position !== undefined && (position.value === null || position.value === undefined)) {
              where.push(`i.id ${later} ?`)
              params.push(position.id)
            }
            params.push(rows)
            return {
              sql:
                `SELECT i.id AS id, i.version AS version, NULL AS sort_value FROM ${items} i ` +
                `WHERE ${where.join(' AND ')} ORDER BY i.id${direction} LIMIT ?`,
              params,
            }
          }
    return { valued, missing }
  }
}

/** A term whose side rows are in id order, so an unsorted page can be read from them and stop at the page. */
export interface DriverTerm {
  /** Which conjunct of the query (the query itself when it is no `and`) it comes from. */
  readonly conjunct: number
  readonly side: 'tags' | 'numbers' | 'words'
  readonly field: string
  readonly value: string | number
}

/**
 * The terms an unsorted page can be driven by, in the order used when nothing is known of their
 * frequencies: each `eq`, then each word of each `text` with a field.
 */
export function driverTerms(definition: IndexDefinition, query: SearchQuery): DriverTerm[] {
  const conjuncts = 'and' in query ? query.and : [query]
  const terms: DriverTerm[] = []
  for (const [conjunct, part] of conjuncts.entries()) {
    if (!('eq' in part)) continue
    const side = definition.fields[part.eq.field]?.type === 'numeric' ? 'numbers' : 'tags'
    terms.push({ conjunct, side, field: part.eq.field, value: part.eq.value })
  }
  for (const [conjunct, part] of conjuncts.entries()) {
    if (!('text' in part) || part.text.field === undefined) continue
    for (const word of new Set(textWords(part.text.terms))) {
      terms.push({ conjunct, side: 'words', field: part.text.field, value: word })
    }
  }
  return terms
}

function only(statement: SqlStatement): SearchPlan {
  return { valued: statement, missing: undefined }
}

function bounds(
  column: string,
  range: { gte?: number; gt?: number; lte?: number; lt?: number },
): { sql: string; values: number[] } {
  const parts: string[] = []
  const values: number[] = []
  for (const [op, bound] of [
    ['>=', range.gte],
    ['>', range.gt],
    ['<=', range.lte],
    ['<', range.lt],
  ] as const) {
    if (bound === undefined) continue
    parts.push(`${column} ${op} ?`)
    values.push(bound)
  }
  return { sql: parts.join(' AND '), values }
}

/** The statement of a page's first step (what `searchPlan` runs first): for plan checks and benchmarks. */
export function searchStatement(
  dialect: SearchSqlDialect,
  table: string,
  definition: IndexDefinition,
  request: SearchRequest,
  position: SearchPosition | undefined,
  now: number,
): SqlStatement {
  const plan = searchPlan(dialect, table, definition, request, position, now)
  return plan.valued ?? plan.missing!(request.limit + 1)
}
