import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import {
  BackendError,
  PartitionedStore,
  SKIPPED_RESULT,
  type SqlResult,
  type SqlStatement,
  type SqlTransport,
  type SqlValue,
  shouldRun,
  sqliteDialect,
} from '@sync-engine/core/internal'
import Database from 'better-sqlite3'

export interface SqliteOptions {
  /** File path, or ':memory:'. */
  path: string
  /** Items table name. */
  table?: string
}

const STATEMENT_CACHE_LIMIT = 256

/**
 * better-sqlite3 as a `SqlTransport`. WAL journal mode with synchronous=NORMAL: a commit survives
 * a process crash (the OS has the WAL pages) and costs no fsync per transaction. Prepared
 * statements are cached by SQL text, so multi-row upserts of a fixed size are prepared once.
 */
export class BetterSqlite3Transport implements SqlTransport {
  readonly driver = 'better-sqlite3'
  readonly dialect = 'sqlite' as const
  /** The database file's absolute path (or `:memory:`). */
  readonly target: string
  readonly #db: Database.Database
  readonly #statements = new Map<string, Database.Statement>()
  readonly #atomic: (statements: readonly SqlStatement[]) => SqlResult[]

  constructor(path: string) {
    this.target = path === ':memory:' ? path : resolve(path)
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
      this.#db = new Database(path)
      this.#db.pragma('journal_mode = WAL')
      this.#db.pragma('synchronous = NORMAL')
      this.#db.pragma('busy_timeout = 5000')
    } catch (error) {
      throw new BackendError('l3', `cannot open SQLite database ${path}: ${(error as Error).message}`, {
        cause: error,
      })
    }
    this.#atomic = this.#db.transaction((statements: readonly SqlStatement[]) => {
      const results: SqlResult[] = []
      for (const statement of statements) {
        results.push(shouldRun(statement, results) ? this.#runSync(statement) : SKIPPED_RESULT)
      }
      return results
    })
  }

  async run(statement: SqlStatement): Promise<SqlResult> {
    try {
      return this.#runSync(statement)
    } catch (error) {
      throw wrap(error)
    }
  }

  async runAtomically(statements: readonly SqlStatement[]): Promise<SqlResult[]> {
    try {
      // One statement is atomic on its own (autocommit): BEGIN and COMMIT would only cost two more.
      if (statements.length === 1) return [this.#runSync(statements[0]!)]
      return this.#atomic(statements)
    } catch (error) {
      throw wrap(error)
    }
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close()
  }

  #runSync(statement: SqlStatement): SqlResult {
    const prepared = this.#prepare(statement.sql)
    const params = statement.params as SqlValue[]
    if (prepared.reader) return { rows: prepared.all(...params) as SqlResult['rows'], affectedRows: 0 }
    const info = prepared.run(...params)
    return { rows: [], affectedRows: info.changes }
  }

  #prepare(sql: string): Database.Statement {
    let prepared = this.#statements.get(sql)
    if (prepared === undefined) {
      prepared = this.#db.prepare(sql)
      if (this.#statements.size >= STATEMENT_CACHE_LIMIT) {
        this.#statements.delete(this.#statements.keys().next().value as string)
      }
      this.#statements.set(sql, prepared)
    }
    return prepared
  }
}

function wrap(error: unknown): BackendError {
  if (error instanceof BackendError) return error
  return new BackendError('l3', `sqlite: ${(error as Error).message}`, { cause: error })
}

/** L3 on a SQLite file: the embedded default. */
export function createSqliteStore(options: SqliteOptions): PartitionedStore {
  return new PartitionedStore(new BetterSqlite3Transport(options.path), sqliteDialect, options.table)
}
