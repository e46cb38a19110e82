import type { SqlDialectName, SqlStatement } from './sql-transport.ts'

/** The SQL text of one dialect. Everything is parameterised; only the table name is spliced, once validated. */
export interface SqlDialect {
  readonly name: SqlDialectName
  /**
   * Whether an upsert's affected-row count is exactly the rows it inserted or replaced (SQLite).
   * Where it is not (MySQL counts an update as 2), every chunk's versions are checked after it.
   */
  readonly upsertCountsChangedRows: boolean
  /** Rows per upsert statement (bounded by the bind-parameter limit or packet size). */
  readonly maxRowsPerStatement: number
  createSchema(table: string): SqlStatement[]
  /** Version-guarded multi-row upsert of `rows` rows; `version` is assigned last. */
  upsert(table: string, rows: number): string
  selectByIds(table: string, count: number): string
  /** `SELECT id, version` of `count` ids: the stale check after an upsert. */
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
