import {
  ConfigError,
  InvalidArgumentError,
  InvalidIdError,
  InvalidJsonError,
  PayloadTooLargeError,
} from '../errors.ts'
import type { ContentType } from '../item/sync-item.ts'
import type { L3Capabilities, L3Store, L3WriteOptions, L3WriteResult } from './l3-store.ts'
import { COLUMN_LIMITS, ITEM_COLUMNS, type SqlDialect, TABLE_NAME_PATTERN } from './sql-dialect.ts'
import type { SqlResult, SqlRow, SqlStatement, SqlTransport, SqlValue } from './sql-transport.ts'
import type { StoredRecord } from './stored-record.ts'

const encoder = new TextEncoder()
/** Reads never throw on odd bytes, and keep a leading U+FEFF (an id may start with one). */
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
/** Writes refuse JSON that is not UTF-8 rather than store U+FFFD, and keep a leading BOM as bytes. */
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
/** Ids per IN list of a read; partial lists are padded to a power of two (see `inLists`). */
const READ_CHUNK = 512
/**
 * Ids per IN list of the version read-back after a write (`SELECT id, version`, small rows): as
 * many as MySQL's largest upsert, so a 5,000-record write reads its versions back in 3 round trips,
 * not 10. (A prepared 2048-id list costs the server ~1 MB per connection.)
 */
const VERSION_CHUNK = 2048
/** Per parameter on MySQL's binary protocol: a length (at most 9 bytes) and a type (2). */
const PARAM_OVERHEAD = 11
/** An integer parameter travels as an 8-byte number. */
const NUMBER_BYTES = 8
/** The bytes of a record's columns other than its content, at their limits: sizes `maxContentBytes`. */
const MAX_METADATA_BYTES =
  ITEM_COLUMNS.length * PARAM_OVERHEAD +
  COLUMN_LIMITS.idBytes +
  3 * NUMBER_BYTES +
  COLUMN_LIMITS.hashLength +
  3 * COLUMN_LIMITS.stateLength +
  'binary'.length +
  COLUMN_LIMITS.mimeLength

/** A validated record, with the parameters of its row and the bytes they add to a statement. */
interface Row {
  readonly record: StoredRecord
  /** The JSON text (payload column), or null for binary items and tombstones. */
  readonly text: string | null
  /** At most this many bytes (see `#row`); 0 when the transport sets no limit. */
  readonly bytes: number
}

interface Outcome {
  applied: number
  stale: string[]
}

/** L3 written once against a dialect and a transport. */
export class SqlStore implements L3Store {
  /** Upsert SQL by row count: built once, and the same string keeps the prepared-statement cache warm. */
  readonly #upserts = new Map<number, string>()
  /** What an upsert costs besides its rows, and what each row adds in SQL text. */
  readonly #statementBytes: number
  readonly #rowSqlBytes: number

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
    const one = this.#upsertSql(1).length
    this.#rowSqlBytes = this.#upsertSql(2).length - one
    this.#statementBytes = one - this.#rowSqlBytes
  }

  get capabilities(): L3Capabilities {
    const limit = this.transport.maxStatementBytes
    return {
      exactChangeCount: this.sqlDialect.upsertCountsChangedRows,
      maxRowsPerStatement: this.sqlDialect.maxRowsPerStatement,
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

  async init(): Promise<void> {
    await this.transport.connect?.()
    await this.transport.runAtomically(this.sqlDialect.createSchema(this.table))
  }

  /**
   * Records that cannot be stored (too long for a column, too big for one statement, JSON that is
   * not UTF-8) are returned in `rejected` and never sent, so one bad record never blocks the rest.
   * If the server still refuses a batch's data, the batch is halved until the refused records are
   * alone; they are rejected and the others written (each half in its own transaction).
   */
  async write(records: readonly StoredRecord[], options?: L3WriteOptions): Promise<L3WriteResult> {
    if (records.length === 0) return { applied: 0, stale: [] }
    await this.transport.connect?.()
    const rejected = new Map<string, Error>()
    const rows: Row[] = []
    const limit = this.transport.maxStatementBytes
    for (const record of records) {
      const row = this.#row(record, limit)
      if (row instanceof Error) rejected.set(String(record.id), row)
      else rows.push(row)
    }
    // One lock order for every writer, so concurrent multi-row upserts do not deadlock on each other.
    if (this.sqlDialect.ordersRowsForLocks) {
      rows.sort((a, b) => (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0))
    }
    const reportStale = options?.reportStale ?? true
    const outcome =
      rows.length > 0 ? await this.#writeIsolating(rows, rejected, reportStale) : { applied: 0, stale: [] }
    return rejected.size > 0 ? { ...outcome, rejected } : outcome
  }

  async #writeIsolating(
    rows: readonly Row[],
    rejected: Map<string, Error>,
    reportStale: boolean,
  ): Promise<Outcome> {
    try {
      return await this.#writeAtomically(rows, reportStale)
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error
      if (rows.length === 1) {
        rejected.set(rows[0]!.record.id, error)
        return { applied: 0, stale: [] }
      }
      const half = rows.length >>> 1
      const first = await this.#writeIsolating(rows.slice(0, half), rejected, reportStale)
      const second = await this.#writeIsolating(rows.slice(half), rejected, reportStale)
      return { applied: first.applied + second.applied, stale: [...first.stale, ...second.stale] }
    }
  }

  async #writeAtomically(rows: readonly Row[], reportStale: boolean): Promise<Outcome> {
    const chunks = this.#chunks(rows)
    const statements: SqlStatement[] = chunks.map((chunk) => {
      const params: SqlValue[] = []
      // Straight into the statement's array, in ITEM_COLUMNS order: no per-row array on the hot path.
      for (const { record, text } of chunk) {
        params.push(
          record.id,
          record.version,
          record.updatedAt,
          record.hash,
          record.state,
          record.contentType,
          record.mime,
          text,
          text === null && !record.tombstone ? record.content : null,
          record.tombstone ? 1 : 0,
        )
      }
      return { sql: this.#upsertSql(chunk.length), params }
    })
    const exact = this.sqlDialect.upsertCountsChangedRows
    if (!reportStale) {
      await this.transport.runAtomically(statements)
      return { applied: rows.length, stale: [] }
    }
    // Without exact counts, read the versions back in the same transaction: the upserts hold the
    // rows' locks, so what it reads is what they left, whatever other writers do next.
    if (!exact) statements.push(...this.#versionStatements(rows.map((row) => row.record.id)))
    const results = await this.transport.runAtomically(statements)
    if (!exact) return staleByVersion(rows, versionsOf(results.slice(chunks.length)))
    // Only a chunk that changed fewer rows than it carried can hold a stale write: look those up.
    const suspect: Row[] = []
    let applied = 0
    results.forEach((result, index) => {
      const chunk = chunks[index]!
      if (result.affectedRows === chunk.length) applied += chunk.length
      else suspect.push(...chunk)
    })
    if (suspect.length === 0) return { applied, stale: [] }
    const found = versionsOf(
      await Promise.all(
        this.#versionStatements(suspect.map((row) => row.record.id)).map((s) => this.transport.run(s)),
      ),
    )
    const checked = staleByVersion(suspect, found)
    return { applied: applied + checked.applied, stale: checked.stale }
  }

  /**
   * Validates a record and prices its row against `limit` (the transport's `maxStatementBytes`);
   * an error says why it cannot be stored.
   */
  #row(record: StoredRecord, limit: number | undefined): Row | Error {
    const { id } = record
    if (typeof id !== 'string' || id.length === 0 || !id.isWellFormed()) {
      return new InvalidIdError('id must be a non-empty string of well-formed UTF-16')
    }
    // Each UTF-16 unit is at most 3 UTF-8 bytes: short ids need no count.
    const idBytes = id.length * 3 <= COLUMN_LIMITS.idBytes ? id.length : utf8Length(id)
    if (idBytes > COLUMN_LIMITS.idBytes) {
      return new InvalidIdError(`id is ${idBytes} bytes of UTF-8; the limit is ${COLUMN_LIMITS.idBytes}`)
    }
    if (!Number.isSafeInteger(record.version) || record.version < 0) {
      return new InvalidArgumentError(`version must be a non-negative safe integer, got ${record.version}`)
    }
    if (!Number.isSafeInteger(record.updatedAt)) {
      return new InvalidArgumentError(`updatedAt must be a safe integer, got ${record.updatedAt}`)
    }
    const tooLong = overLimit(record)
    if (tooLong !== undefined) return new InvalidArgumentError(tooLong)
    let payload: string | null = null
    let contentBytes = 0
    if (!record.tombstone) {
      if (!(record.content instanceof Uint8Array)) {
        return new InvalidArgumentError('a record that is not a tombstone needs content')
      }
      contentBytes = record.content.byteLength
      if (record.contentType === 'json') {
        try {
          payload = strictDecoder.decode(record.content)
        } catch {
          return new InvalidJsonError(`JSON content of ${JSON.stringify(id)} is not valid UTF-8`)
        }
      }
    }
    // Without a statement-size limit (SQLite) rows need no price: only the row count bounds a statement.
    if (limit === undefined) return { record, text: payload, bytes: 0 }
    const fixed = ITEM_COLUMNS.length * PARAM_OVERHEAD + 3 * NUMBER_BYTES + this.#rowSqlBytes
    const { hash, state, contentType, mime } = record
    // The text columns at 3 bytes per UTF-16 unit: an upper bound that needs no pass over them (the
    // pass cost more than the rest of this method). Only a row that does not fit at that price is
    // counted exactly, so the announced `maxContentBytes` still fits.
    let metadata = fixed + 3 * (id.length + hash.length + state.length + contentType.length + mime.length)
    if (this.#statementBytes + metadata + contentBytes > limit) {
      metadata =
        fixed +
        utf8Length(id) +
        utf8Length(hash) +
        utf8Length(state) +
        utf8Length(contentType) +
        utf8Length(mime)
      if (this.#statementBytes + metadata + contentBytes > limit) {
        return new PayloadTooLargeError(contentBytes, Math.max(0, limit - this.#statementBytes - metadata))
      }
    }
    return { record, text: payload, bytes: metadata + contentBytes }
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

  async read(ids: readonly string[]): Promise<Map<string, StoredRecord>> {
    const found = new Map<string, StoredRecord>()
    for (const list of inLists([...new Set(ids)], READ_CHUNK)) {
      const { rows } = await this.transport.run({
        sql: this.sqlDialect.selectByIds(this.table, list.length),
        params: list,
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

  async ping(): Promise<void> {
    await this.transport.run({ sql: 'SELECT 1 AS ok', params: [] })
  }

  close(): Promise<void> {
    return this.transport.close()
  }
}

/** Why a record's short columns do not fit, or undefined. */
function overLimit(record: StoredRecord): string | undefined {
  if (typeof record.state !== 'string' || record.state.length > COLUMN_LIMITS.stateLength) {
    return `state must be a string of at most ${COLUMN_LIMITS.stateLength} characters`
  }
  if (typeof record.mime !== 'string' || record.mime.length > COLUMN_LIMITS.mimeLength) {
    return `mime must be a string of at most ${COLUMN_LIMITS.mimeLength} characters`
  }
  if (typeof record.hash !== 'string' || record.hash.length > COLUMN_LIMITS.hashLength) {
    return `hash must be a string of at most ${COLUMN_LIMITS.hashLength} characters`
  }
  return undefined
}

/** `rows` as runs of descending powers of two (13 → 8, 4, 1). */
function powersOfTwo<T>(rows: readonly T[]): T[][] {
  const runs: T[][] = []
  let start = 0
  while (start < rows.length) {
    const size = 2 ** Math.floor(Math.log2(rows.length - start))
    runs.push(rows.slice(start, start + size))
    start += size
  }
  return runs
}

/**
 * `ids` as IN lists of at most `chunk` (a power of two), the last padded to a power of two by
 * repeating its last id (harmless in IN): reads of any size use one of a dozen statement texts,
 * prepared once.
 */
function inLists(ids: readonly string[], chunk: number): string[][] {
  const lists: string[][] = []
  for (let start = 0; start < ids.length; start += chunk) {
    const list = ids.slice(start, start + chunk)
    const size = 2 ** Math.ceil(Math.log2(list.length))
    while (list.length < size) list.push(list.at(-1)!)
    lists.push(list)
  }
  return lists
}

function versionsOf(results: readonly SqlResult[]): Map<string, number> {
  const versions = new Map<string, number>()
  for (const result of results) {
    for (const row of result.rows) versions.set(asText(row.id), Number(row.version))
  }
  return versions
}

/** A row is stale when the stored version is newer than the one written; otherwise it counts as applied. */
function staleByVersion(rows: readonly Row[], stored: ReadonlyMap<string, number>): Outcome {
  const stale: string[] = []
  for (const { record } of rows) {
    if ((stored.get(record.id) ?? 0) > record.version) stale.push(record.id)
  }
  return { applied: rows.length - stale.length, stale }
}

/** Bytes of `text` in UTF-8, without encoding it (a lone surrogate counts as U+FFFD, 3 bytes). */
function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

function recordFromRow(row: SqlRow): StoredRecord {
  const tombstone = Number(row.tombstone) === 1
  const contentType = asText(row.content_type) as ContentType
  let content: Uint8Array | null = null
  if (!tombstone) {
    if (contentType === 'json') content = encoder.encode(asText(row.payload))
    else content = asBytes(row.payload_blob)
  }
  return {
    id: asText(row.id),
    version: Number(row.version),
    updatedAt: Number(row.updated_at),
    hash: asText(row.hash),
    state: asText(row.state),
    contentType,
    mime: asText(row.mime),
    content,
    tombstone,
  }
}

/** Text columns arrive as strings; binary ones (MySQL's VARBINARY id and state) as bytes of UTF-8. */
function asText(value: SqlValue | undefined): string {
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array) return decoder.decode(value)
  if (value === null || value === undefined) return ''
  return String(value)
}

function asBytes(value: SqlValue | undefined): Uint8Array {
  // Drivers hand back Node Buffers; callers get a plain Uint8Array view (no copy), whichever tier answered.
  if (value instanceof Uint8Array) {
    return value.constructor === Uint8Array
      ? value
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  }
  if (typeof value === 'string') return encoder.encode(value)
  return new Uint8Array(0)
}
