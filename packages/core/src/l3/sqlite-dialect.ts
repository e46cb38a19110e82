import {
  conditionalUpdateSql,
  ITEM_COLUMNS,
  insertIfAbsentSql,
  LIVE_ROW,
  type SqlDialect,
  UPDATED_COLUMNS,
} from './sql-dialect.ts'

const quote = (identifier: string) => `"${identifier}"`
const list = (count: number) => Array(count).fill('?').join(', ')

/**
 * SQLite (3.24+ for upserts). JSON lives in a TEXT column so `json_extract` can query it;
 * binary in a BLOB. `id` compares bytewise (BINARY collation), like MySQL's VARBINARY.
 */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  upsertCountsChangedRows: true,
  ordersRowsForLocks: false,
  sharedServer: false,
  // 11 parameters a row; SQLite allows 32,766 bound parameters. 100 rows keeps statements cacheable.
  maxRowsPerStatement: 100,

  createSchema(table) {
    const t = quote(table)
    return [
      {
        sql: `CREATE TABLE IF NOT EXISTS ${t} (
  id TEXT NOT NULL PRIMARY KEY,
  version INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  hash TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'default',
  content_type TEXT NOT NULL CHECK (content_type IN ('json', 'binary')),
  mime TEXT NOT NULL,
  payload TEXT,
  payload_blob BLOB,
  tombstone INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER
)`,
        params: [],
      },
      { sql: `CREATE INDEX IF NOT EXISTS ${quote(`${table}_version`)} ON ${t} (version)`, params: [] },
      { sql: `CREATE INDEX IF NOT EXISTS ${quote(`${table}_state`)} ON ${t} (state)`, params: [] },
      // Partial: only tombstones, so the purge is a range scan and writes of live items pay nothing.
      {
        sql: `CREATE INDEX IF NOT EXISTS ${quote(`${table}_tombstones`)} ON ${t} (updated_at) WHERE tombstone = 1`,
        params: [],
      },
    ]
  },

  migrate(table, columns) {
    const t = quote(table)
    const statements = []
    if (!columns.has('expires_at'))
      statements.push({ sql: `ALTER TABLE ${t} ADD COLUMN expires_at INTEGER`, params: [] })
    // Partial: only items with a TTL, so the expiry purge is a range scan.
    statements.push({
      sql: `CREATE INDEX IF NOT EXISTS ${quote(`${table}_expiry`)} ON ${t} (expires_at) WHERE expires_at IS NOT NULL AND tombstone = 0`,
      params: [],
    })
    return statements
  },

  columnsOf: () => `SELECT name FROM pragma_table_info(?)`,

  upsert(table, rows) {
    const t = quote(table)
    const row = `(${list(ITEM_COLUMNS.length)})`
    const sets = UPDATED_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')
    return (
      `INSERT INTO ${t} (${ITEM_COLUMNS.join(', ')}) VALUES ${Array(rows).fill(row).join(', ')} ` +
      `ON CONFLICT (id) DO UPDATE SET ${sets} WHERE excluded.version > ${t}.version`
    )
  },

  selectByIds(table, count) {
    return `SELECT ${ITEM_COLUMNS.join(', ')} FROM ${quote(table)} WHERE id IN (${list(count)})`
  },

  selectVersions(table, count) {
    return `SELECT id, version FROM ${quote(table)} WHERE id IN (${list(count)})`
  },

  selectHeads(table, count) {
    return `SELECT id, version, tombstone, expires_at FROM ${quote(table)} WHERE id IN (${list(count)})`
  },

  // A transaction locks the whole database: the read cannot be overtaken before the write.
  selectLive(table, count) {
    return `SELECT id, version FROM ${quote(table)} WHERE id IN (${list(count)}) AND ${LIVE_ROW}`
  },

  conditionalUpdate: (table, condition) => conditionalUpdateSql(quote(table), condition),
  insertIfAbsent: (table) => insertIfAbsentSql(quote(table), ''),

  scanIds(table, { after, prefix, now }) {
    const where = ['tombstone = 0']
    if (after) where.push('id > ?')
    // GLOB is case-sensitive and, on a BINARY column, planned as an index range.
    if (prefix) where.push('id GLOB ?')
    if (now) where.push('(expires_at IS NULL OR expires_at > ?)')
    return `SELECT id FROM ${quote(table)} WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`
  },

  prefixPattern(prefix) {
    return `${prefix.replace(/[*?[]/g, (c) => `[${c}]`)}*`
  },

  maxVersion: (table) => `SELECT COALESCE(MAX(version), 0) AS v FROM ${quote(table)}`,
  countLive: (table) => `SELECT COUNT(*) AS n FROM ${quote(table)} WHERE tombstone = 0`,
  purgeTombstones: (table) => `DELETE FROM ${quote(table)} WHERE tombstone = 1 AND updated_at < ?`,
  // The tombstone keeps the version (a delayed older write still cannot bring the item back) and
  // dates from the expiry, so the tombstone purge removes it a retention period later.
  purgeExpired: (table) =>
    `UPDATE ${quote(table)} SET tombstone = 1, payload = NULL, payload_blob = NULL, hash = '', ` +
    `updated_at = expires_at, expires_at = NULL WHERE expires_at IS NOT NULL AND expires_at <= ? AND tombstone = 0`,
}
