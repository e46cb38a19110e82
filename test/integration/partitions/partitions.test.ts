import { join } from 'node:path'
import {
  ConflictError,
  IndexBuildingError,
  type L3Store,
  mysqlDialect,
  type PartitionedStore,
  parseIndexDefinition,
  parseSearchRequest,
  SqlStore,
  type SqlTransport,
  SyncEngine,
  SyncItem,
} from '@sync-engine/core/internal'
import { createMysqlStore, Mysql2Transport } from '@sync-engine/sql-mysql2'
import { BetterSqlite3Transport, createSqliteStore } from '@sync-engine/sql-sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'
import { describeWithMysql, mysqlTables, mysqlUrl } from '../support/services.ts'

/** A place for an L3 of one test: a store to open (again, as the next process would) and raw SQL. */
interface Backend {
  /** A new table: `open()` returns a store over it each time it is called. */
  fresh(): { open: () => PartitionedStore; table: string }
  /** Raw SQL outside any engine. */
  raw(): SqlTransport
  quote(identifier: string): string
}

function partitionCases(backend: () => Backend): void {
  const engines: SyncEngine[] = []
  const start = async (store: L3Store, config: Record<string, unknown> = {}) => {
    const engine = new SyncEngine({ l3: store, maintenance: 'manual', config })
    await engine.start()
    engines.push(engine)
    return engine
  }
  const stop = async () => {
    for (const engine of engines.splice(0)) await engine.shutdown()
  }
  const idsIn = async (table: string) => {
    const b = backend()
    const { rows } = await b.raw().run({ sql: `SELECT id FROM ${b.quote(table)} ORDER BY id`, params: [] })
    return rows.map((row) =>
      row.id instanceof Uint8Array ? Buffer.from(row.id).toString('utf8') : String(row.id),
    )
  }

  it('keeps ids under a registered prefix in their own table (longest prefix wins), across restarts', async () => {
    const { open, table } = backend().fresh()
    try {
      const engine = await start(open())
      expect((await engine.registerPartition('user:')).created).toBe(true)
      expect(await engine.registerPartition('user:')).toEqual({
        created: false,
        partition: { prefix: 'user:', table: `${table}_p1` },
      })
      await engine.registerPartition('user:vip:')
      for (const id of ['user:1', 'user:vip:1', 'other:1', 'user:vi']) {
        await engine.submit(SyncItem.fromJson(id, { id }), { ack: 'stored' })
      }
      expect(await idsIn(table)).toEqual(['other:1'])
      expect(await idsIn(`${table}_p1`)).toEqual(['user:1', 'user:vi'])
      expect(await idsIn(`${table}_p2`)).toEqual(['user:vip:1'])
      await stop()

      // The next process routes the same way: the registry is in L3, not in memory.
      const again = await start(open(), { l3SingleWriter: true })
      expect(again.listPartitions().map((p) => p.prefix)).toEqual(['user:', 'user:vip:'])
      for (const id of ['user:1', 'user:vip:1', 'other:1'])
        expect((await again.get(id))?.json()).toEqual({ id })
      // The trusted existence filter was built from every table: no false negative for a partition's id.
      expect((await again.getMany(['user:vip:1', 'user:nope'])).map((item) => item?.id)).toEqual([
        'user:vip:1',
        undefined,
      ])
      const listed = await again.listItems({ prefix: 'user:' })
      expect(listed.items.map((item) => item.id)).toEqual(['user:1', 'user:vi', 'user:vip:1'])
      const paged = await again.listItems({ prefix: '', limit: 2 })
      expect(paged.items.map((item) => item.id)).toEqual(['other:1', 'user:1'])
      const next = await again.listItems({ prefix: '', limit: 2, cursor: paged.cursor })
      expect(next.items.map((item) => item.id)).toEqual(['user:vi', 'user:vip:1'])
      expect(next.cursor).toBeNull()
      expect(await again.countItems({ prefix: 'user:' })).toBe(3)
      expect((await again.deletePrefix({ prefix: 'user:' })).deleted).toBe(3)
      expect(await again.get('user:vip:1')).toBeUndefined()
      expect(await again.countItems({ prefix: '' })).toBe(1)
    } finally {
      await stop()
    }
  })

  it('refuses a partition over ids already stored, deleted ones included (409), and bad prefixes', async () => {
    const { open } = backend().fresh()
    try {
      const engine = await start(open())
      await engine.submit(SyncItem.fromJson('order:1', { n: 1 }), { ack: 'stored' })
      await engine.submit(SyncItem.fromJson('gone:1', { n: 1 }), { ack: 'stored' })
      await engine.delete('gone:1', { ack: 'stored' })
      const refused = engine.registerPartition('order:')
      await expect(refused).rejects.toBeInstanceOf(ConflictError)
      await expect(refused).rejects.toMatchObject({ code: 'CONFLICT', status: 409 })
      // The tombstone guards against a delayed older write: it must stay where reads look.
      await expect(engine.registerPartition('gone:')).rejects.toMatchObject({ code: 'CONFLICT' })
      await expect(engine.registerPartition('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
      await expect(engine.registerPartition('x'.repeat(300))).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      })
      expect(engine.listPartitions()).toEqual([])
      expect((await engine.get('order:1'))?.json()).toEqual({ n: 1 })
    } finally {
      await stop()
    }
  })

  it('searches every table with the indexes defined before and after a partition was registered', async () => {
    const { open } = backend().fresh()
    try {
      const engine = await start(open())
      await engine.defineIndex({
        name: 'people',
        prefix: 'p:',
        fields: { age: { type: 'numeric', path: '$.age', sortable: true } },
      })
      await engine.registerPartition('p:eu:')
      for (const [id, age] of [
        ['p:eu:1', 30],
        ['p:us:1', 20],
        ['p:eu:2', 10],
        ['p:us:2', 40],
      ] as const) {
        await engine.submit(SyncItem.fromJson(id, { age }), { ack: 'stored' })
      }
      const byAge = { index: 'people', query: { range: { field: 'age', gte: 0 } }, sort: { field: 'age' } }
      const first = await engine.search({ ...byAge, limit: 3 })
      expect(first.items.map((item) => item.id)).toEqual(['p:eu:2', 'p:us:1', 'p:eu:1'])
      const rest = await engine.search({ ...byAge, limit: 3, cursor: first.cursor })
      expect(rest.items.map((item) => item.id)).toEqual(['p:us:2'])
      expect(rest.cursor).toBeNull()
      await engine.defineIndex({
        name: 'eu',
        prefix: 'p:eu:',
        fields: { age: { type: 'numeric', path: '$.age' } },
      })
      const eu = await engine.search({ index: 'eu', query: { range: { field: 'age', lt: 100 } } })
      expect(eu.items.map((item) => item.id)).toEqual(['p:eu:1', 'p:eu:2'])
    } finally {
      await stop()
    }
  })

  it('loses no acknowledged write that raced a registration of its prefix', async () => {
    const { open, table } = backend().fresh()
    try {
      const engine = await start(open())
      const ids = Array.from({ length: 200 }, (_, n) => `race:${n}`)
      const writes = Promise.all(
        ids.map((id) => engine.submit(SyncItem.fromJson(id, { id }), { ack: 'stored' })),
      )
      const registered = engine.registerPartition('race:').then(
        () => true,
        (error: unknown) => {
          expect(error).toBeInstanceOf(ConflictError)
          return false
        },
      )
      const [, created] = await Promise.all([writes, registered])
      // Wherever the registration fell, every id is in one table, the one reads look in.
      const inPartition = created ? await idsIn(`${table}_p1`) : []
      const inBase = await idsIn(table)
      expect(inPartition.length + inBase.length).toBe(ids.length)
      if (created) expect(inBase).toEqual([])
      await stop()
      const again = await start(open())
      const found = await again.getMany(ids)
      expect(found.filter((item) => item === undefined)).toEqual([])
    } finally {
      await stop()
    }
  })
}

async function idsOf(raw: SqlTransport, table: string): Promise<string[]> {
  const { rows } = await raw.run({ sql: `SELECT id FROM \`${table}\` ORDER BY id`, params: [] })
  return rows.map((row) =>
    row.id instanceof Uint8Array ? Buffer.from(row.id).toString('utf8') : String(row.id),
  )
}

describe('partitions on SQLite', () => {
  const dir = makeTempDir('partitions')
  let n = 0
  let raw: BetterSqlite3Transport | undefined
  const path = () => join(dir.path, 'partitions.db')
  afterAll(async () => {
    await raw?.close()
    dir.remove()
  })
  partitionCases(() => ({
    fresh() {
      const table = `items_${++n}`
      return { table, open: () => createSqliteStore({ path: path(), table }) }
    },
    raw() {
      raw ??= new BetterSqlite3Transport(path())
      return raw
    },
    quote: (identifier) => `"${identifier}"`,
  }))
})

describeWithMysql('partitions on MariaDB', () => {
  const names = mysqlTables()
  let raw: Mysql2Transport
  beforeAll(() => {
    raw = new Mysql2Transport({ url: mysqlUrl() })
  })
  afterAll(async () => {
    await raw.close()
    await names.dropAll()
  })
  it('instances sharing the database learn of each other’s indexes and partitions without a restart', async () => {
    const table = names.next()
    // A short deadline: a registration waits the refresh interval and one call's deadline.
    const open = (catalogRefreshMs: number) =>
      createMysqlStore({ url: mysqlUrl(), table, catalogRefreshMs, timeoutMs: 2_000 })
    const a = open(300)
    const b = open(60_000)
    await a.init()
    await b.init()
    try {
      const definition = parseIndexDefinition({
        name: 'kinds',
        prefix: '',
        fields: { kind: { type: 'tag', path: '$.kind' } },
      })
      const request = parseSearchRequest({ index: 'kinds', query: { eq: { field: 'kind', value: 'k' } } })
      // B never heard of the index: a search on it reads the definitions again instead of a 404,
      // and while A's backfill has not finished it is refused, never answered in part.
      // (Over the base table's own stores: the build's steps one by one. Not closed: `raw` is theirs.)
      const a0 = new SqlStore(raw, mysqlDialect, table, { catalogRefreshMs: 300 })
      const b0 = new SqlStore(raw, mysqlDialect, table, { catalogRefreshMs: 60_000 })
      await b0.init()
      expect(await a0.search.declare(definition)).toBe(true)
      await expect(b0.search.search(request, Date.now())).rejects.toBeInstanceOf(IndexBuildingError)
      expect(await b0.search.status('kinds')).toEqual({ state: 'building' })
      expect(await a0.search.status('kinds')).toEqual({ state: 'building', covered: 0 })
      await expect(b.search.search(request, Date.now())).rejects.toMatchObject({ status: 503 })
      await a0.search.build(definition)
      expect(await b0.search.status('kinds')).toEqual({ state: 'ready' })
      expect((await b0.search.search(request, Date.now())).items).toEqual([])
      expect((await b.search.search(request, Date.now())).items).toEqual([])

      // A registers a partition; B still routes by its old copy and writes under the prefix into
      // the base table. Once every instance has had the time to read the registry, A moves it.
      const registered = a.register('late:')
      while (a.list.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
      const record = { ...SyncItem.fromJson('late:1', { kind: 'k' }).withVersion(5, 1), tombstone: false }
      await b.write([record])
      await registered
      const c = open(0)
      await c.init()
      try {
        expect((await c.read(['late:1'])).get('late:1')?.version).toBe(5)
        expect(await idsOf(raw, table)).toEqual([])
        expect(await idsOf(raw, `${table}_p1`)).toEqual(['late:1'])
        // Its index rows moved with it: the partition's side tables answer for it.
        expect((await c.search.search(request, Date.now())).items.map((item) => item.id)).toEqual(['late:1'])
      } finally {
        await c.close()
      }
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('moves at start what a registration left in the wrong table (its process died before it moved it)', async () => {
    const table = names.next()
    const open = (catalogRefreshMs: number) => createMysqlStore({ url: mysqlUrl(), table, catalogRefreshMs })
    const stale = open(60_000)
    await stale.init()
    const registering = open(0)
    await registering.init()
    try {
      // Registered without the wait and the move (as if its process died then); the stale instance
      // still routes by the registry it read before, into the base table.
      await registering.register('crash:')
      const record = { ...SyncItem.fromJson('crash:1', { n: 1 }).withVersion(7, 1), tombstone: false }
      await stale.write([record])
      expect(await idsOf(raw, table)).toEqual(['crash:1'])
      const next = open(300)
      await next.init()
      try {
        expect(await idsOf(raw, table)).toEqual([])
        expect(await idsOf(raw, `${table}_p1`)).toEqual(['crash:1'])
        expect((await next.read(['crash:1'])).get('crash:1')?.version).toBe(7)
      } finally {
        await next.close()
      }
    } finally {
      await stale.close()
      await registering.close()
    }
  })

  partitionCases(() => ({
    fresh() {
      const table = names.next()
      return { table, open: () => createMysqlStore({ url: mysqlUrl(), table, catalogRefreshMs: 0 }) }
    },
    raw: () => raw,
    quote: (identifier) => `\`${identifier}\``,
  }))
})
