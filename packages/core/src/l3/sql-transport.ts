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
  /**
   * Inside `runAtomically`: run only if this holds over the results of the statements before it
   * in the call — a read-back that their counts may show to be unneeded, kept in the same
   * transaction when it is needed. A skipped statement's result is `SKIPPED_RESULT`. A transport
   * may ignore this and run the statement anyway; the caller judges the results the same way.
   */
  readonly onlyIf?: (before: readonly SqlResult[]) => boolean
}

export interface SqlResult {
  /** Rows of a statement that returns them (SELECT, … RETURNING); empty otherwise. */
  readonly rows: readonly SqlRow[]
  readonly affectedRows: number
  /**
   * Of an upsert's rows, how many met an existing row and left it as it was (the version guard
   * kept a newer one), when the driver can tell (mysql2, from the server's `Records: … Duplicates:
   * …` summary). Absent: unknown.
   */
  readonly unchangedRows?: number
}

/** The result of a statement `runAtomically` skipped (its `onlyIf` did not hold). */
export const SKIPPED_RESULT: SqlResult = Object.freeze({ rows: Object.freeze([]), affectedRows: 0 })

/** Whether `runAtomically` runs `statement` after `before` (the one reading of `onlyIf`). */
export function shouldRun(statement: SqlStatement, before: readonly SqlResult[]): boolean {
  return statement.onlyIf === undefined || statement.onlyIf(before)
}

/**
 * The body of an asynchronous `runAtomically`: the statements one at a time, in order, through
 * `send` (the next never runs after one failed), skipping those whose `onlyIf` does not hold.
 */
export async function runInOrder(
  statements: readonly SqlStatement[],
  send: (statement: SqlStatement) => Promise<SqlResult>,
): Promise<SqlResult[]> {
  const results: SqlResult[] = []
  for (const statement of statements) {
    results.push(shouldRun(statement, results) ? await send(statement) : SKIPPED_RESULT)
  }
  return results
}

export type SqlDialectName = 'sqlite' | 'mysql'

export interface SqlTransport {
  /** The driver's name, for health reports. */
  readonly driver: string
  readonly dialect: SqlDialectName
  /**
   * Which database this reaches, without credentials (`host:port/database`, a file's absolute
   * path): part of the store's `identity`, which the write-ahead log records.
   */
  readonly target: string
  /**
   * The largest statement the server accepts, measured as the store estimates it: the SQL text plus,
   * per parameter, its bytes and 11 (MySQL's binary protocol spends at most 9 on a length and 2 on
   * a type). Absent when the server has no such limit (SQLite) or until `connect` has learnt it.
   */
  readonly maxStatementBytes?: number
  /**
   * The longest one call runs (a transaction from its first statement to its COMMIT, retries
   * included) before it is abandoned: nothing it sent commits later (bar a COMMIT already in
   * flight). A catalog change (a new index or partition) waits this long for the transactions
   * other instances planned with their older copy. Absent: `ASSUMED_DEADLINE_MS`.
   */
  readonly deadlineMs?: number
  /**
   * Connects and learns the server's limits (`maxStatementBytes`). Idempotent; the store calls it
   * before its first write. Optional: a transport with nothing to learn omits it.
   */
  connect?(): Promise<void>
  /**
   * Runs one statement. Errors are thrown as `BackendError` with credentials redacted, except a
   * refusal of the data itself (a constraint, a value too long for its column, a statement over the
   * packet limit), thrown as `InvalidArgumentError`: retrying the same rows cannot succeed, so the
   * store isolates the rows at fault instead of retrying.
   */
  run(statement: SqlStatement): Promise<SqlResult>
  /** Runs the statements in order in one transaction: all commit or none does. */
  runAtomically(statements: readonly SqlStatement[]): Promise<SqlResult[]>
  close(): Promise<void>
}
