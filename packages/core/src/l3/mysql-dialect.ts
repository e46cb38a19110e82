import {
  conditionalUpdateSql,
  ITEM_COLUMNS,
  insertIfAbsentSql,
  LIVE_ROW,
  type SqlDialect,
  UPDATED_COLUMNS,
} from './sql-dialect.ts'

const quote = (identifier: string) => `\`${identifier}\``

/** MySQL's assignments run left to right: each guard must still see the old `version`. */
const guarded = (column: string) => `${column} = IF(VALUES(version) > version, VALUES(${column}), ${column})`

const placeholders = (count: number) => Array(count).fill('?').join(', ')

/**
 * MySQL 8, MariaDB 10.11 and PlanetScale alike: only function forms and `VALUES()` (MariaDB rejects
 * `->>` and the `INSERT … AS new` row alias; `VALUES()` is deprecated in MySQL 8.0.20+ but works on
 * all three).
 *
 * Column choices:
 * - `id` and `state` are VARBINARY, not `VARCHAR … COLLATE utf8mb4_bin`: every utf8mb4 collation
 *   but MySQL 8's `_0900_` ones is PAD SPACE, so `'a'` and `'a '` would be the same primary key
 *   (MariaDB answers "Duplicate entry") and `WHERE id = 'a'` would find `'a '`. Binary strings
 *   compare bytewise with no padding, exactly like SQLite's BINARY collation, and their byte
 *   order is UTF-8 order. 512 bytes is the id limit itself; 256 holds any 64-unit state.
 * - JSON is LONGTEXT utf8mb4_bin with `CHECK (JSON_VALID(payload))`, not MySQL's JSON type: MySQL 8
 *   stores JSON as a binary document and re-serialises it on read (keys reordered, spaces added),
 *   which would break "every tier returns the same bytes" and the hash over them. LONGTEXT keeps
 *   the text as written, still queryable with JSON_EXTRACT/JSON_VALUE; on MariaDB this is exactly
 *   what its JSON type is. (MariaDB's JSON_VALID refuses nesting deeper than 31 and lone
 *   surrogate escapes: the driver reports that as refused data, and the store rejects that row.)
 * - Binary content is a LONGBLOB, never JSON or text.
 */
export const mysqlDialect: SqlDialect = {
  name: 'mysql',
  // An upsert counts 1 per insert, 2 per update and 0 or 1 per untouched row: it cannot tell a
  // skipped row from an applied one, so the store reads the versions back in the transaction.
  upsertCountsChangedRows: false,
  ordersRowsForLocks: true,
  sharedServer: true,
  // 10 parameters a row (MySQL allows 65,535 per statement). A power of two, so that the store's
  // split of a batch into statements reuses a handful of prepared statements. Large, because each
  // statement is a round trip the server idles through, and the first one should keep the server
  // busy while the caller's thread is away (a 5,000-record write: 2048 + 2048 + 512 + 256 + 128 + 8
  // rows, where 512 made it 9 × 512 + 256 + 128 + 8). Not larger, because MariaDB keeps ~4.7 KB per
  // row of a prepared upsert for as long as the connection caches it (2048 rows: ~10 MB; all the
  // powers of two up to 2048: ~20 MB a connection, was ~5), and preparing 2048 rows takes ~20 ms.
  maxRowsPerStatement: 2048,

  createSchema(table) {
    return [
      {
        sql: `CREATE TABLE IF NOT EXISTS ${quote(table)} (
  id VARBINARY(512) NOT NULL,
  version BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  hash VARCHAR(64) NOT NULL,
  state VARBINARY(256) NOT NULL DEFAULT 'default',
  content_type VARCHAR(16) NOT NULL CHECK (content_type IN ('json', 'binary')),
  mime VARCHAR(255) NOT NULL,
  payload LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL CHECK (JSON_VALID(payload)),
  payload_blob LONGBLOB NULL,
  tombstone TINYINT NOT NULL DEFAULT 0,
  expires_at BIGINT NULL,
  PRIMARY KEY (id),
  KEY ix_version (version),
  KEY ix_state (state),
  KEY ix_tombstone_updated (tombstone, updated_at),
  KEY ix_expires (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin`,
        params: [],
      },
    ]
  },

  migrate(table, columns) {
    if (columns.has('expires_at')) return []
    return [
      {
        sql: `ALTER TABLE ${quote(table)} ADD COLUMN expires_at BIGINT NULL, ADD KEY ix_expires (expires_at)`,
        params: [],
      },
    ]
  },

  columnsOf: () =>
    `SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`,

  upsert(table, rows) {
    const row = `(${placeholders(ITEM_COLUMNS.length)})`
    const sets = UPDATED_COLUMNS.map(guarded).join(', ')
    return (
      `INSERT INTO ${quote(table)} (${ITEM_COLUMNS.join(', ')}) VALUES ${Array(rows).fill(row).join(', ')} ` +
      `ON DUPLICATE KEY UPDATE ${sets}`
    )
  },

  selectByIds(table, count) {
    return `SELECT ${ITEM_COLUMNS.join(', ')} FROM ${quote(table)} WHERE id IN (${placeholders(count)})`
  },

  selectVersions(table, count) {
    return `SELECT id, version FROM ${quote(table)} WHERE id IN (${placeholders(count)})`
  },

  selectHeads(table, count) {
    return `SELECT id, version, tombstone, expires_at FROM ${quote(table)} WHERE id IN (${placeholders(count)})`
  },

  // Not FOR UPDATE: locking the tombstones' rows before the upserts lock theirs would break the one
  // lock order (id order) that keeps concurrent batches from deadlocking. Exact for this engine's own
  // writes (flushes are serialised); another writer deleting the same id at the same instant may
  // also be told the item existed.
  selectLive(table, count) {
    return `SELECT id, version FROM ${quote(table)} WHERE id IN (${placeholders(count)}) AND ${LIVE_ROW}`
  },

  conditionalUpdate: (table, condition) => conditionalUpdateSql(quote(table), condition),
  // Two concurrent inserts may both pass NOT EXISTS under READ COMMITTED: the primary key refuses
  // the second (duplicate entry), which the store reads as "already exists".
  insertIfAbsent: (table) => insertIfAbsentSql(quote(table), ' FROM DUAL'),

  scanIds(table, { after, prefix, now }) {
    const where = ['tombstone = 0']
    if (after) where.push('id > ?')
    // On VARBINARY, LIKE is bytewise (case-sensitive), and a literal prefix is an index range.
    // `!` as the escape: the default `\` also means something to string literals and to
    // NO_BACKSLASH_ESCAPES.
    if (prefix) where.push(`id LIKE ? ESCAPE '!'`)
    if (now) where.push('(expires_at IS NULL OR expires_at > ?)')
    return `SELECT id FROM ${quote(table)} WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`
  },

  prefixPattern(prefix) {
    return `${prefix.replace(/[!%_]/g, (c) => `!${c}`)}%`
  },

  maxVersion: (table) => `SELECT COALESCE(MAX(version), 0) AS v FROM ${quote(table)}`,
  countLive: (table) => `SELECT COUNT(*) AS n FROM ${quote(table)} WHERE tombstone = 0`,
  purgeTombstones: (table) => `DELETE FROM ${quote(table)} WHERE tombstone = 1 AND updated_at < ?`,
  // Assignments run left to right: `updated_at` takes `expires_at` before it is cleared.
  purgeExpired: (table) =>
    `UPDATE ${quote(table)} SET tombstone = 1, payload = NULL, payload_blob = NULL, hash = '', ` +
    `updated_at = expires_at, expires_at = NULL WHERE expires_at IS NOT NULL AND expires_at <= ? AND tombstone = 0`,
}
