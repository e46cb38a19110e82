import { MAX_ID_BYTES } from '../item/item-id.ts'
import { MAX_MIME_LENGTH, MAX_STATE_LENGTH } from '../item/sync-item.ts'
import type { SqlDialectName, SqlStatement } from './sql-transport.ts'

/** The SQL text of one dialect. Everything is parameterised; only the table name is spliced, once validated. */
export interface SqlDialect {
  readonly name: SqlDialectName
  /**
   * Whether an upsert's affected-row count is exactly the rows it inserted or replaced (SQLite).
   * Where it is not (MySQL counts an update as 2), the versions are read back in the same transaction.
   */
  readonly upsertCountsChangedRows: boolean
  /**
   * Rows per upsert statement (bounded by the bind-parameter limit); the transport's
   * `maxStatementBytes` bounds a statement's bytes as well.
   */
  readonly maxRowsPerStatement: number
  /**
   * Whether a batch must lock rows in one order (id order) so concurrent multi-row upserts cannot
   * deadlock (row locks, MySQL). SQLite locks the whole database per transaction.
   */
  readonly ordersRowsForLocks: boolean
  /** A server other processes reach too (MySQL), not a file of this process (SQLite). */
  readonly sharedServer: boolean
  createSchema(table: string): SqlStatement[]
  /**
   * Statements that bring a table created by an older version up to date, given the names of the
   * columns it has (`columnsOf`): e.g. the `expires_at` column and its index.
   */
  migrate(table: string, columns: ReadonlySet<string>): SqlStatement[]
  /** `SELECT name` of the table's columns (one parameter: the table name). */
  columnsOf(): string
  /** Version-guarded multi-row upsert of `rows` rows; `version` is assigned last. */
  upsert(table: string, rows: number): string
  selectByIds(table: string, count: number): string
  /**
   * `SELECT id, version` of `count` ids: the stale check. Where the affected-row count says nothing
   * it runs inside the write's transaction, right after the upserts, so it sees their outcome.
   */
  selectVersions(table: string, count: number): string
  /** `SELECT id, version, tombstone, expires_at` of `count` ids: existence without content. */
  selectHeads(table: string, count: number): string
  /**
   * `SELECT id, version` of those of `count` ids that hold a live item at the time given as the last
   * parameter: which deletes of a write find an item, read in the write's own transaction.
   */
  selectLive(table: string, count: number): string
  /**
   * A conditional replace of one row (parameters: the row's ITEM_COLUMNS but `id`, then id, the
   * new version, the condition's parameters): `live` — only if the live item is at a version
   * (`ifVersion`, now); `dead` — only if the row is a tombstone or expired (now).
   */
  conditionalUpdate(table: string, condition: 'live' | 'dead'): string
  /** Inserts one row (ITEM_COLUMNS, then the id again) only if no row has its id. */
  insertIfAbsent(table: string): string
  scanIds(table: string, options: { after: boolean; prefix: boolean; now: boolean }): string
  /** The parameter for a prefix match, escaped for the dialect's pattern syntax. */
  prefixPattern(prefix: string): string
  maxVersion(table: string): string
  countLive(table: string): string
  purgeTombstones(table: string): string
  /** Turns items expired before the parameter into tombstones that keep their version. */
  purgeExpired(table: string): string
}

/** The columns of the items table, in the order every upsert binds them. */
export const ITEM_COLUMNS = [
  'id',
  'version',
  'updated_at',
  'hash',
  'state',
  'content_type',
  'mime',
  'payload',
  'payload_blob',
  'tombstone',
  'expires_at',
] as const

/** Columns an upsert or a conditional replace overwrites, `version` last (the guard reads the old one). */
export const UPDATED_COLUMNS = [
  ...ITEM_COLUMNS.filter((c) => c !== 'id' && c !== 'version'),
  'version',
] as const

export const TABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/**
 * Limits of the items table's columns, the same in every dialect so that every backend accepts the
 * same records: MySQL would refuse a longer value (and fail the whole batch), SQLite would not. The
 * store checks them before a batch and rejects only the records at fault.
 */
export const COLUMN_LIMITS = {
  /** Bytes of UTF-8 in `id`. */
  idBytes: MAX_ID_BYTES,
  /** UTF-16 units in `state` (what `SyncItem` counts; at most 192 bytes of UTF-8). */
  stateLength: MAX_STATE_LENGTH,
  /** Characters in `mime`. */
  mimeLength: MAX_MIME_LENGTH,
  /** Characters in `hash` (a hex SHA-256). */
  hashLength: 64,
} as const

/** A live item at the time bound as a parameter: not a tombstone, not expired. */
export const LIVE_ROW = 'tombstone = 0 AND (expires_at IS NULL OR expires_at > ?)'

/**
 * A conditional replace of one row, the same in every dialect (the SET values are parameters, so
 * MySQL's left-to-right assignment cannot affect the WHERE). `table` is quoted already.
 */
export function conditionalUpdateSql(table: string, condition: 'live' | 'dead'): string {
  const sets = UPDATED_COLUMNS.map((c) => `${c} = ?`).join(', ')
  const when =
    condition === 'live'
      ? `version = ? AND ${LIVE_ROW}`
      : '(tombstone = 1 OR (expires_at IS NOT NULL AND expires_at <= ?))'
  return `UPDATE ${table} SET ${sets} WHERE id = ? AND version < ? AND ${when}`
}

/** Inserts one row only if no row has its id; `from` is what a dialect needs after the values (`FROM DUAL`). */
export function insertIfAbsentSql(table: string, from: string): string {
  const values = Array(ITEM_COLUMNS.length).fill('?').join(', ')
  return `INSERT INTO ${table} (${ITEM_COLUMNS.join(', ')}) SELECT ${values}${from} WHERE NOT EXISTS (SELECT 1 FROM ${table} WHERE id = ?)`
}
