/**
 * The contract a SQL driver implements (better-sqlite3, mysql2, @planetscale/database). It is
 * deliberately tiny: the SQL itself is written once per dialect in the core, so every transport
 * of a dialect behaves the same by construction, and the conformance suite proves it.
 */
export type SqlValue = string | number | bigint | Uint8Array | null
export type SqlRow = Readonly<Record<string, SqlValue>>

export interface SqlStatement {
  readonly sql: string
  readonly params: readonly SqlValue[]
}

export interface SqlResult {
  /** Rows of a statement that returns them (SELECT, … RETURNING); empty otherwise. */
  readonly rows: readonly SqlRow[]
  readonly affectedRows: number
}

export type SqlDialectName = 'sqlite' | 'mysql'

export interface SqlTransport {
  /** The driver's name, for health reports. */
  readonly driver: string
  readonly dialect: SqlDialectName
  /** Runs one statement. Errors are thrown as `BackendError` with credentials redacted. */
  run(statement: SqlStatement): Promise<SqlResult>
  /** Runs the statements in order in one transaction: all commit or none does. */
  runAtomically(statements: readonly SqlStatement[]): Promise<SqlResult[]>
  close(): Promise<void>
}
