import { ConfigError } from '../errors.ts'
import type { ContentType } from '../item/sync-item.ts'
import type { L3Capabilities, L3Store, L3WriteResult } from './l3-store.ts'
import { type SqlDialect, TABLE_NAME_PATTERN } from './sql-dialect.ts'
import type { SqlRow, SqlStatement, SqlTransport, SqlValue } from './sql-transport.ts'
import type { StoredRecord } from './stored-record.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const READ_CHUNK = 500

/** L3 written once against a dialect and a transport. */
export class SqlStore implements L3Store {
  readonly capabilities: L3Capabilities
  /** Upsert SQL by row count: built once, and the same string keeps the prepared-statement cache warm. */
  readonly #upserts = new Map<number, string>()

  constructor(
    private readonly transport: SqlTransport,
    private readonly sqlDialect: SqlDialect,
    private readonly table = 'sync_items',
  ) {
    if (!TABLE_NAME_PATTERN.test(table)) {
      throw new ConfigError(`sqlTable must match ${TABLE_NAME_PATTERN}, got ${JSON.stringify(table)}`, [
        'sqlTable',
      ])
    }
    if (transport.dialect !== sqlDialect.name) {
      throw new ConfigError(`transport speaks ${transport.dialect}, dialect is ${sqlDialect.name}`, [
        'sqlUrl',
      ])
    }
    this.capabilities = {
      exactChangeCount: sqlDialect.upsertCountsChangedRows,
      maxRowsPerStatement: sqlDialect.maxRowsPerStatement,
    }
  }

  get driver() {
    return this.transport.driver
  }

  get dialect(): string {
    return this.sqlDialect.name
  }

  async init(): Promise<void> {
    await this.transport.runAtomically(this.sqlDialect.createSchema(this.table))
  }

  async write(records: readonly StoredRecord[]): Promise<L3WriteResult> {
    if (records.length === 0) return { applied: 0, stale: [] }
    const chunks: StoredRecord[][] = []
    const statements: SqlStatement[] = []
    const per = this.sqlDialect.maxRowsPerStatement
    for (let start = 0; start < records.length; start += per) {
      const chunk = records.slice(start, start + per)
      const params: SqlValue[] = []
      for (const record of chunk) pushRecordParams(params, record)
      chunks.push(chunk)
      statements.push({ sql: this.#upsertSql(chunk.length), params })
    }
    const results = await this.transport.runAtomically(statements)
    // Only a chunk that changed fewer rows than it carried can hold a stale write: look those up.
    const suspect: StoredRecord[] = []
    let applied = 0
    results.forEach((result, index) => {
      const chunk = chunks[index]!
      const exact = this.sqlDialect.upsertCountsChangedRows
      if (exact && result.affectedRows === chunk.length) applied += chunk.length
      else suspect.push(...chunk)
    })
    if (suspect.length === 0) return { applied, stale: [] }
    const stored = await this.#versions(suspect.map((r) => r.id))
    const stale: string[] = []
    for (const record of suspect) {
      if ((stored.get(record.id) ?? 0) > record.version) stale.push(record.id)
      else applied++
    }
    return { applied, stale }
  }

  #upsertSql(rows: number): string {
    let sql = this.#upserts.get(rows)
    if (sql === undefined) {
      sql = this.sqlDialect.upsert(this.table, rows)
      this.#upserts.set(rows, sql)
    }
    return sql
  }

  async #versions(ids: readonly string[]): Promise<Map<string, number>> {
    const versions = new Map<string, number>()
    for (let start = 0; start < ids.length; start += READ_CHUNK) {
      const chunk = ids.slice(start, start + READ_CHUNK)
      const { rows } = await this.transport.run({
        sql: this.sqlDialect.selectVersions(this.table, chunk.length),
        params: chunk,
      })
      for (const row of rows) versions.set(String(row.id), Number(row.version))
    }
    return versions
  }

  async read(ids: readonly string[]): Promise<Map<string, StoredRecord>> {
    const found = new Map<string, StoredRecord>()
    const unique = [...new Set(ids)]
    for (let start = 0; start < unique.length; start += READ_CHUNK) {
      const chunk = unique.slice(start, start + READ_CHUNK)
      const { rows } = await this.transport.run({
        sql: this.sqlDialect.selectByIds(this.table, chunk.length),
        params: chunk,
      })
      for (const row of rows) {
        const record = recordFromRow(row)
        found.set(record.id, record)
      }
    }
    return found
  }

  async scanIds(options: { after?: string; limit: number; prefix?: string }): Promise<string[]> {
    const params: SqlValue[] = []
    if (options.after !== undefined) params.push(options.after)
    if (options.prefix !== undefined) params.push(this.sqlDialect.prefixPattern(options.prefix))
    params.push(options.limit)
    const sql = this.sqlDialect.scanIds(this.table, {
      after: options.after !== undefined,
      prefix: options.prefix !== undefined,
    })
    const { rows } = await this.transport.run({ sql, params })
    return rows.map((row) => String(row.id))
  }

  async maxVersion(): Promise<number> {
    const { rows } = await this.transport.run({ sql: this.sqlDialect.maxVersion(this.table), params: [] })
    return Number(rows[0]?.v ?? 0)
  }

  async count(): Promise<number> {
    const { rows } = await this.transport.run({ sql: this.sqlDialect.countLive(this.table), params: [] })
    return Number(rows[0]?.n ?? 0)
  }

  async purgeTombstones(olderThanMs: number): Promise<number> {
    const result = await this.transport.run({
      sql: this.sqlDialect.purgeTombstones(this.table),
      params: [olderThanMs],
    })
    return result.affectedRows
  }

  async ping(): Promise<void> {
    await this.transport.run({ sql: 'SELECT 1 AS ok', params: [] })
  }

  close(): Promise<void> {
    return this.transport.close()
  }
}

function pushRecordParams(params: SqlValue[], record: StoredRecord): void {
  const json = !record.tombstone && record.contentType === 'json' && record.content !== null
  params.push(
    record.id,
    record.version,
    record.updatedAt,
    record.hash,
    record.state,
    record.contentType,
    record.mime,
    json ? decoder.decode(record.content!) : null,
    !json && !record.tombstone ? record.content : null,
    record.tombstone ? 1 : 0,
  )
}

function recordFromRow(row: SqlRow): StoredRecord {
  const tombstone = Number(row.tombstone) === 1
  const contentType = String(row.content_type) as ContentType
  let content: Uint8Array | null = null
  if (!tombstone) {
    if (contentType === 'json') content = encoder.encode(asText(row.payload))
    else content = asBytes(row.payload_blob)
  }
  return {
    id: String(row.id),
    version: Number(row.version),
    updatedAt: Number(row.updated_at),
    hash: String(row.hash),
    state: String(row.state),
    contentType,
    mime: String(row.mime),
    content,
    tombstone,
  }
}

function asText(value: SqlValue | undefined): string {
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array) return decoder.decode(value)
  return ''
}

function asBytes(value: SqlValue | undefined): Uint8Array {
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') return encoder.encode(value)
  return new Uint8Array(0)
}
