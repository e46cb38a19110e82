import { ConfigError, InvalidArgumentError } from '../errors.ts'
import { SqlSearchTables } from '../search/sql/sql-search-tables.ts'
import type { L3Capabilities, L3Store, L3WriteOptions, L3WriteResult, WriteCondition } from './l3-store.ts'
import { writeConditional } from './sql-conditional-write.ts'
import { type SqlDialect, TABLE_NAME_PATTERN } from './sql-dialect.ts'
import { inLists, powersOfTwo, staleByVersion, versionsOf, type WriteCounts } from './sql-lists.ts'
import {
  asText,
  headFromRow,
  MAX_METADATA_BYTES,
  priceRow,
  pushRowParams,
  type Row,
  recordFromRow,
} from './sql-rows.ts'
import type { SqlResult, SqlRow, SqlStatement, SqlTransport, SqlValue } from './sql-transport.ts'
import type { RecordHead, StoredRecord } from './stored-record.ts'

/** Ids per IN list of a read; partial lists are padded to a power of two (see `inLists`). */
const READ_CHUNK = 512
/**
 * Ids per IN list of the version read-back after a write (`SELECT id, version`, small rows): as
 * many as MySQL's largest upsert, so a 5,000-record write reads its versions back in 3 round trips,
 * not 10. (A prepared 2048-id list costs the server ~1 MB per connection.)
 */
const VERSION_CHUNK = 2048

interface Outcome extends WriteCounts {
  /** Tombstones that replaced a live item. */
  deletedLive: string[]
}

export interface SqlStoreOptions {
  /**
   * On a shared database (MySQL), how old this process's copy of the index definitions and
   * partitions may get before a write or a search reads them again (default 5,000 ms), and how
   * long a new index waits before its backfill. 0: never re-read, no wait (one process only).
   */
  readonly catalogRefreshMs?: number
}

/** L3 written once against a dialect and a transport. */
export class SqlStore implements L3Store {
  /** Upsert SQL by row count: built once, and the same string keeps the prepared-statement cache warm. */
  readonly #upserts = new Map<number, string>()
  /** What an upsert costs besides its rows, and what each row adds in SQL text. */
  readonly #statementBytes: number
  readonly #rowSqlBytes: number
  /** Search indexes over this table: their definitions and side tables, refreshed by every write. */
  readonly search: SqlSearchTables

  constructor(
    private readonly transport: SqlTransport,
    private readonly sqlDialect: SqlDialect,
    readonly table = 'sync_items',
    options: SqlStoreOptions = {},
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
    this.search = new SqlSearchTables(transport, table, {
      shared: sqlDialect.sharedServer,
      ...(options.catalogRefreshMs !== undefined && { refreshMs: options.catalogRefreshMs }),
    })
    const one = this.#upsertSql(1).length
    this.#rowSqlBytes = this.#upsertSql(2).length - one
    this.#statementBytes = one - this.#rowSqlBytes
  }

  get capabilities(): L3Capabilities {
    const limit = this.transport.maxStatementBytes
    return {
      exactChangeCount: this.sqlDialect.upsertCountsChangedRows,
      maxRowsPerStatement: this.sqlDialect.maxRowsPerStatement,
      shared: this.sqlDialect.sharedServer,
      ...(limit === undefined
        ? {}
        : { maxContentBytes: limit - this.#statementBytes - this.#rowSqlBytes - MAX_METADATA_BYTES }),
    }
  }

  get driver() {
    return this.transport.driver
  }

  get dialect(): string {
    return this.sqlDialect.name
  }

  get identity(): string {
    return `${this.sqlDialect.name}:${this.transport.target}#${this.table}`
  }

  async init(): Promise<void> {
    await this.transport.connect?.()
    await this.transport.runAtomically(this.sqlDialect.createSchema(this.table))
    const { rows } = await this.transport.run({ sql: this.sqlDialect.columnsOf(), params: [this.table] })
    const columns = new Set(rows.map((row) => asText(row.name)))
    const migration = this.sqlDialect.migrate(this.table, columns)
    for (const statement of migration) await this.transport.run(statement)
    await this.search.load()
  }

  /**
   * Records that cannot be stored (too long for a column, too big for one statement, JSON that is
   * not UTF-8) are returned in `rejected` and never sent, so one bad record never blocks the rest.
   * If the server still refuses a batch's data, the batch is halved until the refused records are
   * alone; they are rejected and the others written (each half in its own transaction).
   * Conditional records are written one by one, each checked atomically (`writeConditional`).
   */
  async write(records: readonly StoredRecord[], options?: L3WriteOptions): Promise<L3WriteResult> {
    if (records.length === 0) return { applied: 0, stale: [] }
    await this.transport.connect?.()
    const now = options?.now ?? Date.now()
    const rejected = new Map<string, Error>()
    const rows: Row[] = []
    const conditional: { row: Row; condition: WriteCondition }[] = []
    const limit = this.transport.maxStatementBytes
    for (const record of records) {
      const row = priceRow(record, limit, this.#statementBytes, this.#rowSqlBytes)
      const condition = options?.conditions?.get(record.id)
      if (row instanceof Error) rejected.set(String(record.id), row)
      else if (condition !== undefined) conditional.push({ row, condition })
      else rows.push(row)
    }
    // One lock order for every writer, so concurrent multi-row upserts do not deadlock on each other.
    if (this.sqlDialect.ordersRowsForLocks) {
      rows.sort((a, b) => (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0))
    }
    // Which deletes found a live item is only exact when it is known which tombstones applied.
    const hasTombstones = rows.some((row) => row.record.tombstone)
    const reportStale = (options?.reportStale ?? true) || hasTombstones
    const outcome: Outcome =
      rows.length > 0
        ? await this.#writeIsolating(rows, rejected, reportStale, now)
        : { applied: 0, stale: [], storedVersions: new Map(), deletedLive: [] }
    const conflicts = new Map<string, number>()
    for (const { row, condition } of conditional) {
      const result = await writeConditional(
        this.transport,
        this.sqlDialect,
        this.table,
        row,
        condition.ifVersion,
        now,
      )
      if (result.kind === 'applied') {
        outcome.applied++
        // Its own transaction was the check; the refresh applies only at the version it wrote.
        await this.search.refresh()
        const refresh = this.search.refreshFor([row.record], now)
        if (refresh.length > 0) await this.transport.runAtomically(refresh)
        if (row.record.tombstone && result.replacedLive) outcome.deletedLive.push(row.record.id)
      } else if (result.kind === 'stale') {
        outcome.stale.push(row.record.id)
        outcome.storedVersions.set(row.record.id, result.current)
      } else conflicts.set(row.record.id, result.current)
    }
    return {
      applied: outcome.applied,
      stale: outcome.stale,
      ...(outcome.storedVersions.size > 0 && { storedVersions: outcome.storedVersions }),
      ...(rejected.size > 0 && { rejected }),
      ...(outcome.deletedLive.length > 0 && { deletedLive: outcome.deletedLive }),
      ...(conflicts.size > 0 && { conflicts }),
    }
  }

  async #writeIsolating(
    rows: readonly Row[],
    rejected: Map<string, Error>,
    reportStale: boolean,
    now: number,
  ): Promise<Outcome> {
    try {
      return await this.#writeAtomically(rows, reportStale, now)
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error
      if (rows.length === 1) {
        rejected.set(rows[0]!.record.id, error)
        return { applied: 0, stale: [], storedVersions: new Map(), deletedLive: [] }
      }
      const half = rows.length >>> 1
      const first = await this.#writeIsolating(rows.slice(0, half), rejected, reportStale, now)
      const second = await this.#writeIsolating(rows.slice(half), rejected, reportStale, now)
      return {
        applied: first.applied + second.applied,
        stale: [...first.stale, ...second.stale],
        storedVersions: new Map([...first.storedVersions, ...second.storedVersions]),
        deletedLive: [...first.deletedLive, ...second.deletedLive],
      }
    }
  }

  async #writeAtomically(rows: readonly Row[], reportStale: boolean, now: number): Promise<Outcome> {
    // Before each transaction, not once a call: indexes defined by another instance since are
    // refreshed by it too, and a definition waits for transactions planned without it only as
    // long as one call may run (`afterCatalogRefresh`).
    await this.search.refresh()
    // Tombstones whose id holds a live item, read (and locked) in the write's own transaction.
    const tombstones = rows.filter((row) => row.record.tombstone).map((row) => row.record.id)
    const liveReads = inLists(tombstones, READ_CHUNK).map((list) => ({
      sql: this.sqlDialect.selectLive(this.table, list.length),
      params: [...list, now] as SqlValue[],
    }))
    const chunks = this.#chunks(rows)
    const upserts: SqlStatement[] = chunks.map((chunk) => {
      const params: SqlValue[] = []
      for (const row of chunk) pushRowParams(params, row)
      return { sql: this.#upsertSql(chunk.length), params }
    })
    const exact = this.sqlDialect.upsertCountsChangedRows
    // The search side tables follow in the same transaction, where the upserts applied.
    const refresh = this.search.refreshFor(
      rows.map((row) => row.record),
      now,
    )
    if (!reportStale) {
      await this.transport.runAtomically([...upserts, ...refresh])
      return { applied: rows.length, stale: [], storedVersions: new Map(), deletedLive: [] }
    }
    // Without exact counts, read the versions back in the same transaction: the upserts hold the
    // rows' locks, so what it reads is what they left, whatever other writers do next. Only when
    // needed: when every upsert's count shows no row left as it was, every row applied.
    const upsertsEnd = liveReads.length + upserts.length
    const readBack = (before: readonly SqlResult[]) =>
      before.slice(liveReads.length, upsertsEnd).some((result) => result.unchangedRows !== 0)
    const versionReads = exact
      ? []
      : this.#versionStatements(rows.map((row) => row.record.id)).map((read) => ({
          ...read,
          onlyIf: readBack,
        }))
    const results = await this.transport.runAtomically([
      ...liveReads,
      ...upserts,
      ...versionReads,
      ...refresh,
    ])
    const live = new Map<string, number>()
    for (const result of results.slice(0, liveReads.length)) {
      for (const row of result.rows) live.set(asText(row.id), Number(row.version))
    }
    const upserted = results.slice(liveReads.length, liveReads.length + upserts.length)
    const counts = exact
      ? await this.#countsFromChanges(chunks, upserted)
      : readBack(results)
        ? staleByVersion(rows, versionsOf(results.slice(upsertsEnd, upsertsEnd + versionReads.length)))
        : { applied: rows.length, stale: [], storedVersions: new Map<string, number>() }
    const stale = new Set(counts.stale)
    // A tombstone at the live item's own version changed nothing (first writer wins): not a delete.
    const versions = new Map(rows.map((row) => [row.record.id, row.record.version]))
    const deletedLive = tombstones.filter((id) => {
      const liveVersion = live.get(id)
      return liveVersion !== undefined && !stale.has(id) && liveVersion < versions.get(id)!
    })
    return { ...counts, deletedLive }
  }

  /** Only a chunk that changed fewer rows than it carried can hold a stale write: look those up. */
  async #countsFromChanges(chunks: readonly Row[][], results: readonly SqlResult[]): Promise<WriteCounts> {
    const suspect: Row[] = []
    let applied = 0
    results.forEach((result, index) => {
      const chunk = chunks[index]!
      if (result.affectedRows === chunk.length) applied += chunk.length
      else suspect.push(...chunk)
    })
    if (suspect.length === 0) return { applied, stale: [], storedVersions: new Map() }
    const found = versionsOf(
      await Promise.all(
        this.#versionStatements(suspect.map((row) => row.record.id)).map((s) => this.transport.run(s)),
      ),
    )
    const checked = staleByVersion(suspect, found)
    return { ...checked, applied: applied + checked.applied }
  }

  /**
   * Consecutive rows in statements of at most `maxRowsPerStatement` rows and `maxStatementBytes`
   * bytes (a row bigger than that was rejected). A statement shorter than the maximum is split
   * into powers of two, so that any batch uses one of a dozen statement texts: each is prepared
   * once per connection instead of one per batch size.
   */
  #chunks(rows: readonly Row[]): Row[][] {
    const limit = this.transport.maxStatementBytes ?? Number.POSITIVE_INFINITY
    const max = this.sqlDialect.maxRowsPerStatement
    const chunks: Row[][] = []
    let current: Row[] = []
    let bytes = this.#statementBytes
    const close = () => {
      if (current.length === max) chunks.push(current)
      else chunks.push(...powersOfTwo(current))
      current = []
      bytes = this.#statementBytes
    }
    for (const row of rows) {
      if (current.length === max || (current.length > 0 && bytes + row.bytes > limit)) close()
      current.push(row)
      bytes += row.bytes
    }
    if (current.length > 0) close()
    return chunks
  }

  #upsertSql(rows: number): string {
    let sql = this.#upserts.get(rows)
    if (sql === undefined) {
      sql = this.sqlDialect.upsert(this.table, rows)
      this.#upserts.set(rows, sql)
    }
    return sql
  }

  #versionStatements(ids: readonly string[]): SqlStatement[] {
    return inLists(ids, VERSION_CHUNK).map((list) => ({
      sql: this.sqlDialect.selectVersions(this.table, list.length),
      params: list,
    }))
  }

  read(ids: readonly string[]): Promise<Map<string, StoredRecord>> {
    return this.#byIds(ids, (count) => this.sqlDialect.selectByIds(this.table, count), recordFromRow)
  }

  head(ids: readonly string[]): Promise<Map<string, RecordHead>> {
    return this.#byIds(ids, (count) => this.sqlDialect.selectHeads(this.table, count), headFromRow)
  }

  async #byIds<T extends { id: string }>(
    ids: readonly string[],
    sql: (count: number) => string,
    decode: (row: SqlRow) => T,
  ): Promise<Map<string, T>> {
    const found = new Map<string, T>()
    for (const list of inLists([...new Set(ids)], READ_CHUNK)) {
      const { rows } = await this.transport.run({ sql: sql(list.length), params: list })
      for (const row of rows) {
        const value = decode(row)
        found.set(value.id, value)
      }
    }
    return found
  }

  async scanIds(options: {
    after?: string
    limit: number
    prefix?: string
    now?: number
  }): Promise<string[]> {
    const params: SqlValue[] = []
    if (options.after !== undefined) params.push(options.after)
    if (options.prefix !== undefined) params.push(this.sqlDialect.prefixPattern(options.prefix))
    if (options.now !== undefined) params.push(options.now)
    params.push(options.limit)
    const sql = this.sqlDialect.scanIds(this.table, {
      after: options.after !== undefined,
      prefix: options.prefix !== undefined,
      now: options.now !== undefined,
    })
    const { rows } = await this.transport.run({ sql, params })
    return rows.map((row) => asText(row.id))
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

  async purgeExpired(now: number): Promise<number> {
    const result = await this.transport.run({ sql: this.sqlDialect.purgeExpired(this.table), params: [now] })
    return result.affectedRows
  }

  async ping(): Promise<void> {
    await this.transport.run({ sql: 'SELECT 1 AS ok', params: [] })
  }

  close(): Promise<void> {
    return this.transport.close()
  }
}
