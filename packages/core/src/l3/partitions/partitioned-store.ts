import { ConflictError } from '../../errors.ts'
import { compareCodePoints } from '../../search/id-order.ts'
import { afterCatalogRefresh } from '../../search/sql/catalog-settle.ts'
import { searchSqlDialect, searchTables } from '../../search/sql/search-sql-dialect.ts'
import { prefixRange } from '../../search/sql/search-statement.ts'
import { CATALOG_REFRESH_MS } from '../../search/sql/sql-search-tables.ts'
import type { L3Capabilities, L3Store, L3WriteOptions, L3WriteResult } from '../l3-store.ts'
import type { SqlDialect } from '../sql-dialect.ts'
import { asText } from '../sql-rows.ts'
import { SqlStore, type SqlStoreOptions } from '../sql-store.ts'
import type { SqlTransport } from '../sql-transport.ts'
import type { RecordHead, StoredRecord } from '../stored-record.ts'
import { checkPartitionPrefix, type Partition, PartitionMap } from './partition-map.ts'
import { PartitionRegistry } from './partition-registry.ts'
import { PartitionedSearch } from './partitioned-search.ts'

/** What an L3 with partitions offers (the SQL stores do: `store.partitions`). */
export interface L3Partitions {
  readonly list: readonly Partition[]
  /**
   * Registers a partition: ids under `prefix` live in a table of their own from now on. Refused
   * (409) while the table that holds those ids now has any row under the prefix, tombstones
   * included: moving rows between tables while other writers write them is not atomic. Returns
   * false when the prefix was registered already.
   */
  register(prefix: string): Promise<{ created: boolean; partition: Partition }>
}

/**
 * L3 over an items table and its partitions (the original's `register_schema`): each id lives in
 * the table of the longest registered prefix it starts with, else in the base table. One
 * `SqlStore` per table over the same transport; this facade routes by id and merges what spans
 * tables (scans in id order, counts, the highest version, searches). A write batch that spans
 * tables is one transaction per table: each record is version-guarded on its own, so a batch cut
 * by a failure is completed by its retry (the log and the outbox retry until applied).
 */
export class PartitionedStore implements L3Store, L3Partitions {
  readonly #base: SqlStore
  readonly #registry: PartitionRegistry
  #map: PartitionMap<SqlStore>
  #partitions: Partition[] = []
  /** Each partition's store, by table. */
  readonly #stores = new Map<string, SqlStore>()
  /** Writes in flight, and a registration waiting for them: a new partition starts from a quiet table. */
  #inFlight = 0
  #quiet: (() => void) | undefined
  #gate: Promise<void> | undefined
  /** As for index definitions: how old the registry read may get on a shared database (0: never re-read). */
  readonly #refreshMs: number
  #loadedAt = 0
  #reloading: Promise<void> | undefined
  readonly search: PartitionedSearch

  constructor(
    private readonly transport: SqlTransport,
    private readonly sqlDialect: SqlDialect,
    private readonly table = 'sync_items',
    private readonly options: SqlStoreOptions = {},
  ) {
    this.#base = new SqlStore(transport, sqlDialect, table, options)
    this.#registry = new PartitionRegistry(transport, table)
    this.#map = new PartitionMap(this.#base, [])
    this.#refreshMs = sqlDialect.sharedServer ? (options.catalogRefreshMs ?? CATALOG_REFRESH_MS) : 0
    this.search = new PartitionedSearch(
      () => this.#map,
      () => this.#fresh(),
    )
  }

  get dialect(): string {
    return this.#base.dialect
  }
  get driver(): string {
    return this.#base.driver
  }
  get capabilities(): L3Capabilities {
    return this.#base.capabilities
  }
  /** The base table's: the log and the outbox are bound to the database, whichever table an id is in. */
  get identity(): string {
    return this.#base.identity
  }
  get list(): readonly Partition[] {
    return this.#partitions
  }
  /** This store as its partition registry. */
  get partitions(): L3Partitions {
    return this
  }

  async init(): Promise<void> {
    await this.#base.init()
    await this.#load()
    if (this.#refreshMs > 0 && this.#partitions.length > 0) await this.#sweepAll()
  }

  async #load(): Promise<void> {
    const startedAt = Date.now()
    const partitions = await this.#registry.load()
    for (const partition of partitions) {
      if (!this.#stores.has(partition.table)) await this.#storeOf(partition.table).init()
    }
    this.#route(partitions)
    this.#loadedAt = startedAt
  }

  /** The registry read again when this copy is older than the refresh interval (shared databases). */
  async #fresh(): Promise<void> {
    if (this.#refreshMs === 0 || Date.now() - this.#loadedAt < this.#refreshMs) return
    this.#reloading ??= this.#load().finally(() => {
      this.#reloading = undefined
    })
    await this.#reloading
  }

  async register(input: string): Promise<{ created: boolean; partition: Partition }> {
    const prefix = checkPartitionPrefix(input)
    await this.#fresh()
    const known = this.#partitions.find((p) => p.prefix === prefix)
    if (known) return { created: false, partition: known }
    let open!: () => void
    while (this.#gate) await this.#gate
    this.#gate = new Promise((resolve) => {
      open = resolve
    })
    let moved: { owner: SqlStore; partition: Partition }
    try {
      if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#quiet = resolve))
      this.#quiet = undefined
      const owner = this.#map.ownerOf(prefix)
      if (await this.#holdsRowsUnder(owner, prefix)) {
        throw new ConflictError(
          `ids under ${JSON.stringify(prefix)} are stored already (live or deleted): a partition must be registered before its first write`,
        )
      }
      const partition = { prefix, table: this.#registry.tableFor(this.#partitions) }
      const store = this.#storeOf(partition.table)
      await store.init()
      // The new table has the indexes every other table has, so a search covers it at once (it is
      // empty: nothing to wait for, nothing to backfill).
      await this.#base.search.load()
      for (const definition of this.#base.search.definitions) {
        if (await store.search.declare(definition)) await store.search.build(definition)
      }
      try {
        await this.#registry.record(partition, Date.now())
      } catch (error) {
        // Registered at the same time by another instance: theirs stands.
        await this.#load()
        const theirs = this.#partitions.find((p) => p.prefix === prefix)
        if (theirs) return { created: false, partition: theirs }
        throw error
      }
      this.#route([...this.#partitions, partition])
      moved = { owner, partition }
    } finally {
      this.#gate = undefined
      open()
    }
    if (this.#refreshMs > 0) {
      // Other instances route by their copy of the registry until they read it again: what they
      // wrote under the prefix meanwhile landed in the old table. Once all have read it, move it.
      await afterCatalogRefresh(this.#refreshMs, this.transport.deadlineMs)
      await this.#sweep(moved.owner, prefix)
    }
    return { created: true, partition: moved.partition }
  }

  async write(records: readonly StoredRecord[], options?: L3WriteOptions): Promise<L3WriteResult> {
    await this.#fresh()
    while (this.#gate) await this.#gate
    this.#inFlight++
    try {
      if (records.length === 0) return { applied: 0, stale: [] }
      const results: L3WriteResult[] = []
      let left = records
      for (;;) {
        const groups = this.#map.group(left, (record) => record.id)
        const [store, group] = groups.entries().next().value!
        if (groups.size === 1 && results.length === 0) return await store.write(group, options)
        results.push(await store.write(group, options))
        if (groups.size === 1) break
        // Routed again before each table's transaction, not once a call: a partition registered
        // elsewhere since waits only as long as one transaction may run (`afterCatalogRefresh`).
        const written = new Set(group)
        left = left.filter((record) => !written.has(record))
        await this.#fresh()
      }
      return mergeWriteResults(results)
    } finally {
      if (--this.#inFlight === 0) this.#quiet?.()
    }
  }

  async read(ids: readonly string[]): Promise<Map<string, StoredRecord>> {
    await this.#fresh()
    return this.#byIds(ids, (store, group) => store.read(group))
  }

  async head(ids: readonly string[]): Promise<Map<string, RecordHead>> {
    await this.#fresh()
    return this.#byIds(ids, (store, group) => store.head(group))
  }

  async scanIds(options: {
    after?: string
    limit: number
    prefix?: string
    now?: number
  }): Promise<string[]> {
    const stores = options.prefix === undefined ? this.#map.values : this.#map.covering(options.prefix)
    if (stores.length === 1) return stores[0]!.scanIds(options)
    const pages = await Promise.all(stores.map((store) => store.scanIds(options)))
    // Each table's first `limit` after `after`: the first `limit` of their union are the answer.
    return pages.flat().sort(compareCodePoints).slice(0, options.limit)
  }

  async maxVersion(): Promise<number> {
    return Math.max(0, ...(await this.#each((store) => store.maxVersion())))
  }
  async count(): Promise<number> {
    return sum(await this.#each((store) => store.count()))
  }
  async purgeTombstones(olderThanMs: number): Promise<number> {
    return sum(await this.#each((store) => store.purgeTombstones(olderThanMs)))
  }
  async purgeExpired(now: number): Promise<number> {
    return sum(await this.#each((store) => store.purgeExpired(now)))
  }
  ping(): Promise<void> {
    return this.#base.ping()
  }
  /** The tables share one transport: closing the base closes it. */
  close(): Promise<void> {
    return this.#base.close()
  }

  #storeOf(table: string): SqlStore {
    const known = this.#stores.get(table)
    if (known !== undefined) return known
    const store = new SqlStore(this.transport, this.sqlDialect, table, this.options)
    this.#stores.set(table, store)
    return store
  }

  #route(partitions: Partition[]): void {
    this.#partitions = partitions
    this.#map = new PartitionMap(
      this.#base,
      partitions.map((p) => ({ prefix: p.prefix, value: this.#storeOf(p.table) })),
    )
  }

  async #each<T>(run: (store: SqlStore) => Promise<T>): Promise<T[]> {
    const results: T[] = []
    for (const store of this.#map.values) results.push(await run(store))
    return results
  }

  async #byIds<T>(
    ids: readonly string[],
    run: (store: SqlStore, ids: string[]) => Promise<Map<string, T>>,
  ): Promise<Map<string, T>> {
    const groups = this.#map.group(ids, (id) => id)
    if (groups.size <= 1) return run(groups.keys().next().value ?? this.#base, [...ids])
    const found = new Map<string, T>()
    for (const [store, group] of groups)
      for (const [id, value] of await run(store, group)) found.set(id, value)
    return found
  }

  async #holdsRowsUnder(store: SqlStore, prefix: string): Promise<boolean> {
    return (await this.#rowIdsUnder(store, prefix, 1)).length > 0
  }

  /** Ids of rows under `prefix` (after `after`), tombstones included. */
  async #rowIdsUnder(store: SqlStore, prefix: string, limit: number, after?: string): Promise<string[]> {
    const q = searchSqlDialect(this.transport.dialect).quote
    const range = prefixRange('id', prefix)
    const params: (string | number)[] = [...range.params, ...(after === undefined ? [] : [after]), limit]
    const { rows } = await this.transport.run({
      sql: `SELECT id FROM ${q(store.table)} WHERE ${range.sql}${after === undefined ? '' : ' AND id > ?'} ORDER BY id LIMIT ?`,
      params,
    })
    return rows.map((row) => asText(row.id))
  }

  /**
   * Moves rows under `prefix` from `from` into the partition `to`: each copied by the version-guarded
   * write (a newer row there wins; the partition's index rows follow), then removed from `from` at
   * exactly the version copied, with its index rows there.
   */
  async #sweep(from: SqlStore, prefix: string): Promise<void> {
    const q = searchSqlDialect(this.transport.dialect).quote
    const sides = Object.values(searchTables(from.table)).filter((name) => !name.endsWith('_indexes'))
    const indexed = from.search.definitions.length > 0
    let after: string | undefined
    for (;;) {
      const ids = await this.#rowIdsUnder(from, prefix, SWEEP_PAGE, after)
      if (ids.length === 0) return
      after = ids.at(-1)
      // Rows of ids a longer partition inside `from` owns are where they belong.
      const strays = ids.filter((id) => this.#map.ownerOf(id) !== from)
      if (strays.length === 0) continue
      const records = [...(await from.read(strays)).values()]
      for (const [to, group] of this.#map.group(records, (record) => record.id)) {
        await to.write(group, { reportStale: false })
      }
      await this.transport.runAtomically(
        records.flatMap((record) => [
          {
            sql: `DELETE FROM ${q(from.table)} WHERE id = ? AND version = ?`,
            params: [record.id, record.version],
          },
          ...(indexed
            ? sides.map((side) => ({ sql: `DELETE FROM ${q(side)} WHERE id = ?`, params: [record.id] }))
            : []),
        ]),
      )
    }
  }

  /**
   * At start on a shared database: rows a registration had not moved yet when its process died
   * (written under a partition's prefix into another table by an instance that had not re-read the
   * registry) are moved now, so reads find them.
   */
  async #sweepAll(): Promise<void> {
    for (const table of this.#map.values) {
      for (const partition of this.#partitions) {
        if (partition.table !== table.table) await this.#sweep(table, partition.prefix)
      }
    }
  }
}

/** Rows moved per step of a sweep. */
const SWEEP_PAGE = 200

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0)
}

function mergeWriteResults(results: readonly L3WriteResult[]): L3WriteResult {
  const maps = <K, V>(pick: (result: L3WriteResult) => ReadonlyMap<K, V> | undefined) => {
    const merged = new Map<K, V>()
    for (const result of results) for (const [k, v] of pick(result) ?? []) merged.set(k, v)
    return merged.size > 0 ? merged : undefined
  }
  const storedVersions = maps((r) => r.storedVersions)
  const rejected = maps((r) => r.rejected)
  const conflicts = maps((r) => r.conflicts)
  const deletedLive = results.flatMap((r) => r.deletedLive ?? [])
  return {
    applied: sum(results.map((r) => r.applied)),
    stale: results.flatMap((r) => r.stale),
    ...(storedVersions && { storedVersions }),
    ...(rejected && { rejected }),
    ...(conflicts && { conflicts }),
    ...(deletedLive.length > 0 && { deletedLive }),
  }
}
