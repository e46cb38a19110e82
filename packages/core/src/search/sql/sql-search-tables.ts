import { NotFoundError } from '../../errors.ts'
import { asText } from '../../l3/sql-rows.ts'
import type { SqlRow, SqlStatement, SqlTransport, SqlValue } from '../../l3/sql-transport.ts'
import type { StoredRecord } from '../../l3/stored-record.ts'
import { type IndexDefinition, parseIndexDefinition } from '../index-definition.ts'
import type { L3ListingPage, L3SearchPage } from '../l3-search.ts'
import { positionOfHit, type RankedHit } from '../merge-ranked.ts'
import { decodeCursor, encodeCursor } from '../search-cursor.ts'
import type { SearchRequest } from '../search-query.ts'
import { checkQuery } from '../search-query.ts'
import { countStatement, type ListingQuery, listingStatement } from './item-listing.ts'
import { type IndexedWrite, refreshStatements } from './search-rows.ts'
import { searchSqlDialect, searchTables } from './search-sql-dialect.ts'
import { searchStatement } from './search-statement.ts'

const decoder = new TextDecoder()
/** Items read per step of a backfill. */
const BACKFILL_PAGE = 500

/**
 * The search side of an SQL store: the index definitions (persisted in `<table>_search_indexes`,
 * so every instance and restart sees them), the side tables of their projections, refreshed in
 * each write's own transaction, and searches as one statement per page.
 */
export class SqlSearchTables {
  readonly #dialect
  readonly #names
  #definitions = new Map<string, IndexDefinition>()
  #created = false

  constructor(
    private readonly transport: SqlTransport,
    private readonly table: string,
  ) {
    this.#dialect = searchSqlDialect(transport.dialect)
    this.#names = searchTables(table)
  }

  get definitions(): readonly IndexDefinition[] {
    return [...this.#definitions.values()]
  }

  /** Reads the persisted definitions; a store that never had an index has no table for them. */
  async load(): Promise<void> {
    let rows: readonly SqlRow[]
    try {
      rows = (
        await this.transport.run({
          sql: `SELECT name, definition FROM ${this.#dialect.quote(this.#names.indexes)}`,
          params: [],
        })
      ).rows
    } catch {
      // No table yet (no index was ever defined): nothing to load, created with the first index.
      return
    }
    this.#created = true
    const loaded = new Map<string, IndexDefinition>()
    for (const row of rows) {
      const definition = parseIndexDefinition(JSON.parse(asText(row.definition)))
      loaded.set(definition.name, definition)
    }
    this.#definitions = loaded
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
    const q = this.#dialect.quote
    const same = this.#definitions.get(definition.name)
    if (same && JSON.stringify(same) === JSON.stringify(definition)) return false
    if (!this.#created) {
      await this.transport.runAtomically(this.#dialect.createTables(this.table))
      this.#created = true
    }
    await this.transport.runAtomically([
      ...this.#dropRows(definition.name),
      { sql: `DELETE FROM ${q(this.#names.indexes)} WHERE name = ?`, params: [definition.name] },
      {
        sql: `INSERT INTO ${q(this.#names.indexes)} (name, definition, state) VALUES (?, ?, ?)`,
        params: [definition.name, JSON.stringify(definition), 'ready'],
      },
    ])
    this.#definitions.set(definition.name, definition)
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
      onProgress?.(covered)
      // Past the prefix (ids are in order) or at the end of the table: done.
      if (page.length < BACKFILL_PAGE || covering.length < page.length) return true
      after = page.at(-1)!.id
    }
  }

  async drop(name: string): Promise<void> {
    if (!this.#definitions.has(name)) throw new NotFoundError(`no index named ${JSON.stringify(name)}`)
    const q = this.#dialect.quote
    await this.transport.runAtomically([
      ...this.#dropRows(name),
      { sql: `DELETE FROM ${q(this.#names.indexes)} WHERE name = ?`, params: [name] },
    ])
    this.#definitions.delete(name)
  }

  definition(name: string): IndexDefinition {
    const definition = this.#definitions.get(name)
    if (definition === undefined) throw new NotFoundError(`no index named ${JSON.stringify(name)}`)
    return definition
  }

  /** One page of a search (validated against the index); the cursor is the one this page ends at. */
  async search(request: SearchRequest, now: number): Promise<L3SearchPage> {
    const definition = this.definition(request.index)
    checkQuery(definition, request.query, request.sort)
    const position =
      request.cursor === undefined
        ? undefined
        : decodeCursor(request.cursor, definition.name, request.query, request.sort)
    const { rows } = await this.transport.run(
      searchStatement(this.#dialect, this.table, definition, request, position, now),
    )
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

  #dropRows(name: string): SqlStatement[] {
    const q = this.#dialect.quote
    return [this.#names.tags, this.#names.numbers, this.#names.words].map((side) => ({
      sql: `DELETE FROM ${q(side)} WHERE ix = ?`,
      params: [name],
    }))
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
