import type { SqlStatement } from '../../l3/sql-transport.ts'
import type { SearchSqlDialect } from './search-sql-dialect.ts'
import { prefixRange } from './search-statement.ts'

/** What a listing asks for: live items under a prefix, optionally with one state, after an id. */
export interface ListingQuery {
  readonly prefix: string
  readonly state?: string
  readonly afterId?: string
  readonly limit: number
}

/**
 * Live items in id order (byte order): the prefix as an id range (no `LIKE`: `%`, `_` and `*` are
 * literal without escaping), an optional state, keyset after the last id. `LIMIT n + 1` says
 * whether another page exists.
 */
export function listingStatement(
  dialect: SearchSqlDialect,
  table: string,
  query: ListingQuery,
  now: number,
): SqlStatement {
  const { where, params } = listingFilter(query, now)
  params.push(query.limit + 1)
  return {
    sql: `SELECT id, version, state FROM ${dialect.quote(table)} WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`,
    params,
  }
}

/** How many live items a listing would go through (every page). */
export function countStatement(
  dialect: SearchSqlDialect,
  table: string,
  query: Pick<ListingQuery, 'prefix' | 'state'>,
  now: number,
): SqlStatement {
  const { where, params } = listingFilter(query, now)
  return { sql: `SELECT COUNT(*) AS n FROM ${dialect.quote(table)} WHERE ${where.join(' AND ')}`, params }
}

function listingFilter(query: Pick<ListingQuery, 'prefix' | 'state' | 'afterId'>, now: number) {
  const where = ['tombstone = 0', '(expires_at IS NULL OR expires_at > ?)']
  const params: (string | number)[] = [now]
  if (query.prefix !== '') {
    const range = prefixRange('id', query.prefix)
    where.push(range.sql)
    params.push(...range.params)
  }
  if (query.state !== undefined) {
    where.push('state = ?')
    params.push(query.state)
  }
  if (query.afterId !== undefined) {
    where.push('id > ?')
    params.push(query.afterId)
  }
  return { where, params }
}
