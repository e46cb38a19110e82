import { IndexBuildingError, NotFoundError } from '../../errors.ts'
import { asText } from '../../l3/sql-rows.ts'
import type { SqlRow, SqlStatement, SqlTransport, SqlValue } from '../../l3/sql-transport.ts'
import type { StoredRecord } from '../../l3/stored-record.ts'
import { type IndexDefinition, parseIndexDefinition } from '../index-definition.ts'
import type { IndexStatus, L3ListingPage, L3SearchPage } from '../l3-search.ts'
import { positionOfHit, type RankedHit } from '../merge-ranked.ts'
import { decodeCursor, encodeCursor } from '../search-cursor.ts'
import type { SearchRequest } from '../search-query.ts'
import { checkQuery } from '../search-query.ts'
import { afterCatalogRefresh, yieldToRequests } from './catalog-settle.ts'
import { countStatement, type ListingQuery, listingStatement } from './item-listing.ts'
import { type IndexedWrite, refreshStatements } from './search-rows.ts'
import { searchSqlDialect, searchTables } from './search-sql-dialect.ts'
import { driverTerms, searchPlan } from './search-statement.ts'
import { TermFrequencies } from './term-frequencies.ts'

const decoder = new TextDecoder()
/** Side rows deleted per statement when an index is dropped or redefined. */
const DELETE_STEP = 20_000
/** Items read per step of a backfill. */
const BACKFILL_PAGE = 500
/**
 * How old this instance's copy of the definitions may be on a database other processes share:
 * each write and search older than this reads them again (one small query), so an index defined
 * or dropped elsewhere is known here within this time, without a restart.
 */
export const CATALOG_REFRESH_MS = 5_000

export interface SqlSearchOptions {
  /** Other processes may write this database (MySQL): definitions are re-read, builds wait for them. */
  readonly shared: boolean
  /** `CATALOG_REFRESH_MS` unless given; 0 re-reads never and starts a backfill at once (tests, one process). */
  readonly refreshMs?: number
}

/**
 * The search side of an SQL store: the index definitions (persisted in `<table>_search_indexes`,
 * so every instance and restart sees them), the side tables of their projections, refreshed in
 * each write's own transaction, and searches as one statement per page.
 */
export class SqlSearchTables {
  readonly #dialect
  readonly #names
  #definitions = new Map<string, IndexDefinition>()
  /** Indexes whose backfill has not finished (here or on another instance), as last read. */
  #buildingElsewhere = new Set<string>()
  /** Backfills running in this process: name → items covered so far. */
  readonly #building = new Map<string, number>()
  #created = false
  #loadedAt = 0
  readonly #refreshMs: number
  readonly #frequencies: TermFrequencies | undefined

  constructor(
    private readonly transport: SqlTransport,
    private readonly table: string,
    options: SqlSearchOptions = { shared: false },
  ) {
    this.#dialect = searchSqlDialect(transport.dialect)
    this.#names = searchTables(table)
    this.#refreshMs = options.shared ? (options.refreshMs ?? CATALOG_REFRESH_MS) : 0
    this.#frequencies =
      transport.dialect === 'sqlite' ? new TermFrequencies(transport, this.#dialect, table) : undefined
  }

  get definitions(): readonly IndexDefinition[] {
    return [...this.#definitions.values()]
  }

  /** Reads the persisted definitions; a store that never had an index has no table for them. */
  async load(): Promise<void> {
    let rows: readonly SqlRow[]
    const startedAt = Date.now()
    try {
      rows = (
        await this.transport.run({
          sql: `SELECT name, definition, state FROM ${this.#dialect.quote(this.#names.indexes)}`,
          params: [],
        })
      ).rows
    } catch {
      // No table yet (no index was ever defined): nothing to load, created with the first index.
      this.#loadedAt = startedAt
      return
    }
    this.#created = true
    const loaded = new Map<string, IndexDefinition>()
    const building = new Set<string>()
    for (const row of rows) {
      const definition = parseIndexDefinition(JSON.parse(asText(row.definition)))
      loaded.set(definition.name, definition)
      if (asText(row.state) !== 'ready') building.add(definition.name)
    }
    // A backfill of this process is known to it already; another's shows as building.
    for (const name of this.#building.keys()) {
      const own = this.#definitions.get(name)
      if (own) loaded.set(name, own)
    }
    this.#definitions = loaded
    this.#buildingElsewhere = building
    this.#loadedAt = startedAt
  }

  /** Re-reads the definitions when this copy is older than the refresh interval (shared databases only). */
  async refresh(): Promise<void> {
    if (this.#refreshMs > 0 && Date.now() - this.#loadedAt >= this.#refreshMs) await this.load()
  }

  /**
   * The definition of an index that may be searched now: read again if this instance does not know
   * it (defined elsewhere since); `IndexBuildingError` while its backfill runs, here or elsewhere.
   */
  async searchable(name: string): Promise<IndexDefinition> {
    await this.refresh()
    if (!this.#definitions.has(name) || this.#buildingElsewhere.has(name)) await this.load()
    const definition = this.definition(name)
    const covered = this.#building.get(name)
    if (covered !== undefined || this.#buildingElsewhere.has(name)) {
      throw new IndexBuildingError(name, covered ?? 0)
    }
    return definition
  }

  /** What a write batch appends to its transaction (nothing when no index covers its ids). */
  refreshFor(records: readonly StoredRecord[], now: number): SqlStatement[] {
    if (this.#definitions.size === 0) return []
    return refreshStatements(
      this.#dialect,
      this.table,
      this.definitions,
      records.map((record) => indexedWrite(record, now)),
    )
  }

  /**
   * Creates (or replaces) an index and backfills it from the items under its prefix, a page at a
   * time; writes made meanwhile refresh it themselves (it is known before the backfill starts), and
   * the backfill's rows apply only where the item is still at the version read. `onProgress` is
   * told the items covered so far. Returns whether anything changed (false: the same definition).
   */
  async define(definition: IndexDefinition, onProgress?: (covered: number) => void): Promise<boolean> {
    if (!(await this.declare(definition))) return false
    await this.settle()
    await this.build(definition, onProgress)
    return true
  }

  /**
   * The first step of `define`: records the definition as building (searches on it answer
   * `IndexBuildingError` until `build` is done) and from now on every write here refreshes its
   * rows. False when the same definition is there and built.
   */
  async status(name: string): Promise<IndexStatus> {
    await this.refresh()
    if (!this.#definitions.has(name) || this.#buildingElsewhere.has(name)) await this.load()
    this.definition(name)
    const covered = this.#building.get(name)
    if (covered !== undefined) return { state: 'building', covered }
    return { state: this.#buildingElsewhere.has(name) ? 'building' : 'ready' }
  }

  async declare(definition: IndexDefinition): Promise<boolean> {
    const q = this.#dialect.quote
    await this.refresh()
    const same = this.#definitions.get(definition.name)
    // The same definition, built: nothing to do. Still building (a backfill that died with its
    // process leaves it so): built again.
    const unchanged = same && JSON.stringify(same) === JSON.stringify(definition)
    if (unchanged && !this.#buildingElsewhere.has(definition.name)) return false
    const running = this.#building.get(definition.name)
    if (running !== undefined) throw new IndexBuildingError(definition.name, running)
    if (!this.#created) {
      await this.transport.runAtomically(this.#dialect.createTables(this.table))
      this.#created = true
    }
    await this.transport.runAtomically([
      { sql: `DELETE FROM ${q(this.#names.indexes)} WHERE name = ?`, params: [definition.name] },
      {
        sql: `INSERT INTO ${q(this.#names.indexes)} (name, definition, state) VALUES (?, ?, ?)`,
        params: [definition.name, JSON.stringify(definition), 'building'],
      },
    ])
    this.#definitions.set(definition.name, definition)
    this.#building.set(definition.name, 0)
    // After the switch (searches now wait for the build): the rows of an earlier definition, or
    // of a drop that died half-way. Rows that writes add meanwhile may go too: the backfill, which
    // starts later, writes every item's rows again.
    await this.#deleteRows(definition.name)
    return true
  }

  /**
   * Waits until no write planned without the new definition can still commit (a refresh interval,
   * the transport's deadline and a margin; nothing on a database of this process alone): such a
   * write does not refresh the new index's rows, so a backfill must start after it.
   */
  async settle(): Promise<void> {
    if (this.#refreshMs > 0) await afterCatalogRefresh(this.#refreshMs, this.transport.deadlineMs)
  }

  /** The last step of `define`: the backfill, then the index is ready for searches. */
  async build(definition: IndexDefinition, onProgress?: (covered: number) => void): Promise<void> {
    try {
      await this.#backfill(definition, onProgress)
      await this.transport.run({
        sql: `UPDATE ${this.#dialect.quote(this.#names.indexes)} SET state = ? WHERE name = ?`,
        params: ['ready', definition.name],
      })
      this.#buildingElsewhere.delete(definition.name)
    } finally {
      this.#building.delete(definition.name)
    }
  }

  async #backfill(definition: IndexDefinition, onProgress?: (covered: number) => void): Promise<void> {
    const q = this.#dialect.quote
    let after = ''
    let covered = 0
    for (;;) {
      const { rows } = await this.transport.run({
        sql:
          `SELECT id, version, content_type, payload, tombstone, expires_at FROM ${q(this.table)} ` +
          'WHERE id > ? AND id >= ? ORDER BY id LIMIT ?',
        params: [after, definition.prefix, BACKFILL_PAGE],
      })
      const page = rows.map((row) => ({ id: asText(row.id), row }))
      const covering = page.filter(({ id }) => id.startsWith(definition.prefix))
      const now = Date.now()
      const writes: IndexedWrite[] = covering.map(({ id, row }) => ({
        id,
        version: Number(row.version),
        value: liveJson(asText(row.content_type), row.payload, Number(row.tombstone), row.expires_at, now),
      }))
      const statements = refreshStatements(this.#dialect, this.table, [definition], writes)
      if (statements.length > 0) await this.transport.runAtomically(statements)
      covered += covering.length
      this.#building.set(definition.name, covered)
      onProgress?.(covered)
      // Past the prefix (ids are in order) or at the end of the table: done.
      if (page.length < BACKFILL_PAGE || covering.length < page.length) return
      after = page.at(-1)!.id
      await yieldToRequests()
    }
  }

  async drop(name: string): Promise<void> {
    await this.refresh()
    if (!this.#definitions.has(name)) throw new NotFoundError(`no index named ${JSON.stringify(name)}`)
    const q = this.#dialect.quote
    // The definition first: searches stop at once, and rows left by a drop that dies half-way
    // belong to no index (a later definition of the name deletes them before it builds).
    await this.transport.run({ sql: `DELETE FROM ${q(this.#names.indexes)} WHERE name = ?`, params: [name] })
    this.#definitions.delete(name)
    this.#buildingElsewhere.delete(name)
    await this.#deleteRows(name)
  }

  definition(name: string): IndexDefinition {
    const definition = this.#definitions.get(name)
    if (definition === undefined) throw new NotFoundError(`no index named ${JSON.stringify(name)}`)
    return definition
  }

  /** One page of a search (validated against the index); the cursor is the one this page ends at. */
  async search(request: SearchRequest, now: number): Promise<L3SearchPage> {
    const definition = await this.searchable(request.index)
    checkQuery(definition, request.query, request.sort)
    const position =
      request.cursor === undefined
        ? undefined
        : decodeCursor(request.cursor, definition.name, request.query, request.sort)
    // SQLite plans no statistics: an unsorted page with several terms to start from starts from the rarest.
    const terms =
      request.sort === undefined && this.#frequencies ? driverTerms(definition, request.query) : []
    const driver = terms.length > 1 ? await this.#frequencies!.rarest(definition, terms, now) : undefined
    const plan = searchPlan(this.#dialect, this.table, definition, request, position, now, driver)
    const wanted = request.limit + 1
    const rows = plan.valued === undefined ? [] : [...(await this.transport.run(plan.valued)).rows]
    // Sorted: the items without the sort value come last, read only once the others are through.
    if (rows.length < wanted && plan.missing !== undefined) {
      rows.push(...(await this.transport.run(plan.missing(wanted - rows.length))).rows)
    }
    const numeric = request.sort !== undefined && definition.fields[request.sort.field]?.type === 'numeric'
    const items: RankedHit[] = rows.slice(0, request.limit).map((row) => ({
      id: asText(row.id),
      version: Number(row.version),
      ...(request.sort !== undefined && { sortValue: sortValue(row.sort_value, numeric) }),
    }))
    const last = items.at(-1)
    const cursor =
      rows.length > request.limit && last !== undefined
        ? encodeCursor(
            definition.name,
            request.query,
            request.sort,
            positionOfHit(last, request.sort !== undefined),
          )
        : null
    return { items, cursor }
  }

  /** One page of live items under a prefix (and a state), in id order. */
  async list(query: ListingQuery, now: number): Promise<L3ListingPage> {
    const { rows } = await this.transport.run(listingStatement(this.#dialect, this.table, query, now))
    const page = rows.slice(0, query.limit)
    return {
      items: page.map((row) => ({
        id: asText(row.id),
        version: Number(row.version),
        state: asText(row.state),
      })),
      more: rows.length > query.limit,
    }
  }

  async count(query: { prefix: string; state?: string }, now: number): Promise<number> {
    const { rows } = await this.transport.run(countStatement(this.#dialect, this.table, query, now))
    return Number(rows[0]?.n ?? 0)
  }

  /**
   * Deletes an index's rows in steps of `DELETE_STEP` (each its own statement, under the
   * transport's deadline: one DELETE of a large index's millions of rows would outlast it).
   */
  async #deleteRows(name: string): Promise<void> {
    for (const side of [this.#names.tags, this.#names.numbers, this.#names.words]) {
      const sql = this.#dialect.deleteIndexRows(side, DELETE_STEP)
      for (;;) {
        const { affectedRows } = await this.transport.run({ sql, params: [name] })
        // SQLite deletes them all at once: a step that took fewer than DELETE_STEP (or none) ends it.
        if (affectedRows < DELETE_STEP) break
        await yieldToRequests()
      }
    }
  }
}

/** A record as the side tables take it: its JSON value while it is a live JSON item, else none. */
function indexedWrite(record: StoredRecord, now: number): IndexedWrite {
  const live =
    !record.tombstone && (record.expiresAt === undefined || record.expiresAt === 0 || record.expiresAt > now)
  const value =
    live && record.contentType === 'json' && record.content !== null
      ? JSON.parse(decoder.decode(record.content))
      : undefined
  return { id: record.id, version: record.version, value }
}

function liveJson(
  contentType: string,
  payload: SqlValue | undefined,
  tombstone: number,
  expiresAt: SqlValue | undefined,
  now: number,
): unknown {
  if (tombstone !== 0 || contentType !== 'json' || payload === null || payload === undefined) return undefined
  if (expiresAt !== null && expiresAt !== undefined && Number(expiresAt) <= now) return undefined
  return JSON.parse(asText(payload))
}

function sortValue(value: SqlValue | undefined, numeric: boolean): number | string | null {
  if (value === null || value === undefined) return null
  return numeric ? Number(value) : asText(value)
}
