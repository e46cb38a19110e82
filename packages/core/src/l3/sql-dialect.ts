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
  createSchema(table: string): SqlStatement[]
  /** Version-guarded multi-row upsert of `rows` rows; `version` is assigned last. */
  upsert(table: string, rows: number): string
  selectByIds(table: string, count: number): string
  /**
   * `SELECT id, version` of `count` ids: the stale check. Where the affected-row count says nothing
   * it runs inside the write's transaction, right after the upserts, so it sees their outcome.
   */
  selectVersions(table: string, count: number): string
  scanIds(table: string, options: { after: boolean; prefix: boolean }): string
  /** The parameter for a prefix match, escaped for the dialect's pattern syntax. */
  prefixPattern(prefix: string): string
  maxVersion(table: string): string
  countLive(table: string): string
  purgeTombstones(table: string): string
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
