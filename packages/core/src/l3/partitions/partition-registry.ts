import { ConfigError } from '../../errors.ts'
import { searchSqlDialect } from '../../search/sql/search-sql-dialect.ts'
import { TABLE_NAME_PATTERN } from '../sql-dialect.ts'
import { asText } from '../sql-rows.ts'
import type { SqlRow, SqlStatement, SqlTransport } from '../sql-transport.ts'
import type { Partition } from './partition-map.ts'

/**
 * The partition registry, persisted in L3 beside the items table (`<table>_partitions`): every
 * instance and every restart routes ids the same way (the original kept it in memory and lost it
 * at restart, so ids written to a partition table vanished from reads).
 */
export class PartitionRegistry {
  readonly #quote: (identifier: string) => string
  readonly #name: string

  constructor(
    private readonly transport: SqlTransport,
    private readonly baseTable: string,
  ) {
    this.#quote = searchSqlDialect(transport.dialect).quote
    this.#name = `${baseTable}_partitions`
  }

  /** The registered partitions; none when the registry table does not exist yet. */
  async load(): Promise<Partition[]> {
    let rows: readonly SqlRow[]
    try {
      rows = (
        await this.transport.run({
          sql: `SELECT prefix, table_name FROM ${this.#quote(this.#name)} ORDER BY table_name`,
          params: [],
        })
      ).rows
    } catch (error) {
      // No registry table: no partition was ever registered. Anything else is a real failure.
      if (await this.#exists()) throw error
      return []
    }
    return rows.map((row) => ({ prefix: asText(row.prefix), table: asText(row.table_name) }))
  }

  /** The table a new partition gets: `<table>_p<n>`, n one above the highest used. */
  tableFor(existing: readonly Partition[]): string {
    const used = existing.map((p) => Number(/_p(\d+)$/.exec(p.table)?.[1] ?? 0))
    const table = `${this.baseTable}_p${Math.max(0, ...used) + 1}`
    if (!TABLE_NAME_PATTERN.test(table)) {
      throw new ConfigError(`partition table ${table} would be too long: use a shorter sqlTable`, [
        'sqlTable',
      ])
    }
    return table
  }

  /** Records a partition (the registry table is created with the first). */
  async record(partition: Partition, now: number): Promise<void> {
    // DDL on its own: MySQL commits implicitly around it, so it cannot share a transaction.
    await this.transport.run(this.#create())
    await this.transport.run(this.#insert(partition, now))
  }

  #create(): SqlStatement {
    const q = this.#quote
    const sql =
      this.transport.dialect === 'sqlite'
        ? `CREATE TABLE IF NOT EXISTS ${q(this.#name)} (prefix TEXT NOT NULL PRIMARY KEY, table_name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL)`
        : `CREATE TABLE IF NOT EXISTS ${q(this.#name)} (prefix VARBINARY(255) NOT NULL PRIMARY KEY, table_name VARCHAR(64) NOT NULL UNIQUE, created_at BIGINT NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin`
    return { sql, params: [] }
  }

  #insert(partition: Partition, now: number): SqlStatement {
    return {
      sql: `INSERT INTO ${this.#quote(this.#name)} (prefix, table_name, created_at) VALUES (?, ?, ?)`,
      params: [partition.prefix, partition.table, now],
    }
  }

  async #exists(): Promise<boolean> {
    const sql =
      this.transport.dialect === 'sqlite'
        ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?"
        : 'SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?'
    const { rows } = await this.transport.run({ sql, params: [this.#name] })
    return rows.length > 0
  }
}
