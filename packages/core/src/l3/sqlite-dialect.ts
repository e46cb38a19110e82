import { ITEM_COLUMNS, type SqlDialect } from './sql-dialect.ts'

const quote = (identifier: string) => `"${identifier}"`

/** Columns an upsert overwrites; `version` comes last (the guard reads the old row's version). */
const UPDATED_COLUMNS = ITEM_COLUMNS.filter((c) => c !== 'id' && c !== 'version')

/**
 * SQLite (3.24+ for upserts). JSON lives in a TEXT column so `json_extract` can query it;
 * binary in a BLOB. `id` compares bytewise (BINARY collation), like MySQL's utf8mb4_bin.
 */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  upsertCountsChangedRows: true,
  ordersRowsForLocks: false,
  // 10 parameters a row; SQLite allows 32,766 bound parameters. 100 rows keeps statements cacheable.
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
  tombstone INTEGER NOT NULL DEFAULT 0
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

  upsert(table, rows) {
    const t = quote(table)
    const row = `(${ITEM_COLUMNS.map(() => '?').join(', ')})`
    const sets = [...UPDATED_COLUMNS, 'version'].map((c) => `${c} = excluded.${c}`).join(', ')
    return (
      `INSERT INTO ${t} (${ITEM_COLUMNS.join(', ')}) VALUES ${Array(rows).fill(row).join(', ')} ` +
      `ON CONFLICT (id) DO UPDATE SET ${sets} WHERE excluded.version > ${t}.version`
    )
  },

  selectByIds(table, count) {
    return `SELECT ${ITEM_COLUMNS.join(', ')} FROM ${quote(table)} WHERE id IN (${Array(count).fill('?').join(', ')})`
  },

  selectVersions(table, count) {
    return `SELECT id, version FROM ${quote(table)} WHERE id IN (${Array(count).fill('?').join(', ')})`
  },

  scanIds(table, { after, prefix }) {
    const where = ['tombstone = 0']
    if (after) where.push('id > ?')
    // GLOB is case-sensitive and, on a BINARY column, planned as an index range.
    if (prefix) where.push('id GLOB ?')
    return `SELECT id FROM ${quote(table)} WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`
  },

  prefixPattern(prefix) {
    return `${prefix.replace(/[*?[]/g, (c) => `[${c}]`)}*`
  },

  maxVersion: (table) => `SELECT COALESCE(MAX(version), 0) AS v FROM ${quote(table)}`,
  countLive: (table) => `SELECT COUNT(*) AS n FROM ${quote(table)} WHERE tombstone = 0`,
  purgeTombstones: (table) => `DELETE FROM ${quote(table)} WHERE tombstone = 1 AND updated_at < ?`,
}
