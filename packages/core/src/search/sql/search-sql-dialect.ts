import type { SqlDialectName, SqlStatement } from '../../l3/sql-transport.ts'

/**
 * Where the SQL of search differs between SQLite and MySQL/MariaDB/PlanetScale: identifier
 * quoting, column types, and the clause that makes an insert of a row already there a no-op. The
 * rest (the side tables, the queries) is written once.
 *
 * The side tables hold each indexed item's projection, one row per tag, number or word, keyed so
 * that every query operator is an index range: `(ix, f, v, id)`. `ver` is the item version the
 * row was computed from: a write refreshes its rows in its own transaction only if it was applied.
 */
export interface SearchSqlDialect {
  readonly name: SqlDialectName
  quote(identifier: string): string
  createTables(table: string): SqlStatement[]
  /** Appended to an `INSERT … SELECT` into `side`: a row already there (a drain replaying a write) is skipped. */
  ignoreDuplicates(side: string): string
  /**
   * Deletes rows of one index (`ix = ?`) from `side`: at most `limit` of them where a statement
   * runs under a deadline (MySQL; the caller repeats it until fewer went), all at once where it
   * does not (SQLite answers in-process).
   */
  deleteIndexRows(side: string, limit: number): string
}

const sqliteQuote = (identifier: string) => `"${identifier}"`
const mysqlQuote = (identifier: string) => `\`${identifier}\``

/** The side tables' names for an items table. */
export function searchTables(table: string) {
  return {
    indexes: `${table}_search_indexes`,
    tags: `${table}_search_tags`,
    numbers: `${table}_search_numbers`,
    words: `${table}_search_words`,
  }
}

export const sqliteSearch: SearchSqlDialect = {
  name: 'sqlite',
  quote: sqliteQuote,
  ignoreDuplicates: () => 'ON CONFLICT DO NOTHING',
  deleteIndexRows: (side) => `DELETE FROM ${sqliteQuote(side)} WHERE ix = ?`,
  createTables(table) {
    const t = searchTables(table)
    const q = sqliteQuote
    const statement = (sql: string): SqlStatement => ({ sql, params: [] })
    return [
      statement(
        `CREATE TABLE IF NOT EXISTS ${q(t.indexes)} (name TEXT NOT NULL PRIMARY KEY, definition TEXT NOT NULL, state TEXT NOT NULL)`,
      ),
      statement(
        `CREATE TABLE IF NOT EXISTS ${q(t.tags)} (ix TEXT NOT NULL, f TEXT NOT NULL, v TEXT NOT NULL, id TEXT NOT NULL, ord INTEGER NOT NULL, ver INTEGER NOT NULL, PRIMARY KEY (ix, f, v, id)) WITHOUT ROWID`,
      ),
      statement(`CREATE INDEX IF NOT EXISTS ${q(`${t.tags}_id`)} ON ${q(t.tags)} (id)`),
      statement(
        `CREATE TABLE IF NOT EXISTS ${q(t.numbers)} (ix TEXT NOT NULL, f TEXT NOT NULL, v REAL NOT NULL, id TEXT NOT NULL, ver INTEGER NOT NULL, PRIMARY KEY (ix, f, v, id)) WITHOUT ROWID`,
      ),
      statement(`CREATE INDEX IF NOT EXISTS ${q(`${t.numbers}_id`)} ON ${q(t.numbers)} (id)`),
      statement(
        `CREATE TABLE IF NOT EXISTS ${q(t.words)} (ix TEXT NOT NULL, f TEXT NOT NULL, w TEXT NOT NULL, id TEXT NOT NULL, ver INTEGER NOT NULL, PRIMARY KEY (ix, f, w, id)) WITHOUT ROWID`,
      ),
      statement(`CREATE INDEX IF NOT EXISTS ${q(`${t.words}_any`)} ON ${q(t.words)} (ix, w, id)`),
      statement(`CREATE INDEX IF NOT EXISTS ${q(`${t.words}_id`)} ON ${q(t.words)} (id)`),
    ]
  },
}

export const mysqlSearch: SearchSqlDialect = {
  name: 'mysql',
  quote: mysqlQuote,
  // Changes nothing: a duplicate is a replay of the same projection. Qualified: the SELECT has a `ver` too.
  ignoreDuplicates: (side) => `ON DUPLICATE KEY UPDATE ${mysqlQuote(side)}.ver = ${mysqlQuote(side)}.ver`,
  deleteIndexRows: (side, limit) => `DELETE FROM ${mysqlQuote(side)} WHERE ix = ? LIMIT ${limit}`,
  createTables(table) {
    const t = searchTables(table)
    const q = mysqlQuote
    const tail = 'ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin'
    const statement = (sql: string): SqlStatement => ({ sql, params: [] })
    return [
      statement(
        `CREATE TABLE IF NOT EXISTS ${q(t.indexes)} (name VARCHAR(64) NOT NULL PRIMARY KEY, definition LONGTEXT NOT NULL, state VARCHAR(16) NOT NULL) ${tail}`,
      ),
      statement(
        `CREATE TABLE IF NOT EXISTS ${q(t.tags)} (ix VARBINARY(64) NOT NULL, f VARBINARY(64) NOT NULL, v VARBINARY(255) NOT NULL, id VARBINARY(512) NOT NULL, ord INT NOT NULL, ver BIGINT NOT NULL, PRIMARY KEY (ix, f, v, id), KEY ix_id (id)) ${tail}`,
      ),
      statement(
        `CREATE TABLE IF NOT EXISTS ${q(t.numbers)} (ix VARBINARY(64) NOT NULL, f VARBINARY(64) NOT NULL, v DOUBLE NOT NULL, id VARBINARY(512) NOT NULL, ver BIGINT NOT NULL, PRIMARY KEY (ix, f, v, id), KEY ix_id (id)) ${tail}`,
      ),
      statement(
        `CREATE TABLE IF NOT EXISTS ${q(t.words)} (ix VARBINARY(64) NOT NULL, f VARBINARY(64) NOT NULL, w VARBINARY(255) NOT NULL, id VARBINARY(512) NOT NULL, ver BIGINT NOT NULL, PRIMARY KEY (ix, f, w, id), KEY ix_any (ix, w, id), KEY ix_id (id)) ${tail}`,
      ),
    ]
  },
}

export function searchSqlDialect(name: SqlDialectName): SearchSqlDialect {
  return name === 'sqlite' ? sqliteSearch : mysqlSearch
}
