import { randomBytes } from 'node:crypto'
import {
  defaultPlatform,
  escapeGlob,
  flushOutbox,
  type L3Store,
  type Platform,
  RedisOutbox,
  RedisStore,
  type RedisTransport,
  StaleVersionError,
  SyncEngine,
  SyncItem,
} from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { createMysqlStore } from '@sync-engine/sql-mysql2'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { FlakyL3 } from '../../support/flaky-l3.ts'
import { deleteMatching } from '../conformance/l2-records.ts'
import { describeWithMysql, describeWithRedis, mysqlTables, mysqlUrl, redisUrl } from '../support/services.ts'

/**
 * Engines whose `logged` writes go through the Redis outbox, as on Lambda and Workers: the ack
 * means the item is in L2 and its entry in the outbox; instances read each other's writes from L2
 * before any flusher ran; the flusher stores them in L3 at the versions the receipts gave.
 */
const root = `test:eob:${randomBytes(4).toString('hex')}:`
const tables = mysqlTables()
let count = 0

describeWithRedis('engines over the Redis outbox', () => {
  describeWithMysql('and MariaDB', () => {
    const transports: RedisTransport[] = []
    const engines: SyncEngine[] = []
    let cleaner: RedisTransport

    beforeAll(async () => {
      cleaner = await IoredisTransport.create({ url: redisUrl() })
    })
    afterAll(async () => {
      await Promise.allSettled(engines.map((engine) => engine.shutdown()))
      await deleteMatching(cleaner, `${escapeGlob(root)}*`)
      await Promise.allSettled(transports.map((transport) => transport.close()))
      await cleaner?.close()
      await tables.dropAll()
    })

    /** A deployment: one prefix and table; `instance()` makes one more engine over them. */
    function deployment() {
      const prefix = `${root}${count++}:`
      const table = tables.next()
      const instance = async (options: { platform?: Platform; l3?: (l3: L3Store) => L3Store } = {}) => {
        const transport = await IoredisTransport.create({ url: redisUrl() })
        transports.push(transport)
        const store = await RedisStore.open(transport, { prefix, shards: 4 })
        const sql = createMysqlStore({ url: mysqlUrl(), table, catalogRefreshMs: 0 })
        const outbox = new RedisOutbox(store, { maxBytes: 64 << 20 })
        const engine = new SyncEngine({
          l2: store,
          l3: options.l3 ? options.l3(sql) : sql,
          outbox,
          maintenance: 'manual',
          ...(options.platform && { platform: options.platform }),
        })
        engines.push(engine)
        await engine.start()
        return { engine, outbox, sql }
      }
      return { instance }
    }

    it('acknowledges logged once in L2 and the outbox; another instance reads it from L2; the flusher stores it at that version', async () => {
      const { instance } = deployment()
      const a = await instance()
      const b = await instance()
      const receipt = await a.engine.submit(SyncItem.fromJson('user:1', { name: 'Ada' }))
      expect(receipt).toMatchObject({ id: 'user:1', ack: 'logged' })
      expect((await a.sql.read(['user:1'])).has('user:1')).toBe(false)
      const seen = await b.engine.get('user:1')
      expect(seen?.version).toBe(receipt.version)
      expect(seen?.text()).toBe('{"name":"Ada"}')
      const report = await flushOutbox({ outbox: a.outbox, l3: a.sql, remainingMs: () => 60_000 })
      expect(report).toMatchObject({ drained: 1, left: 0, stale: 0 })
      expect((await a.sql.read(['user:1'])).get('user:1')?.version).toBe(receipt.version)
    })

    it('reports its own outbox writes as pending until a flusher stored them, then synced in L3', async () => {
      const { instance } = deployment()
      const a = await instance()
      const put = await a.engine.submit(SyncItem.fromJson('st:1', { n: 1 }))
      await a.engine.submit(SyncItem.fromJson('st:2', { n: 2 }), { ack: 'stored' })
      const gone = await a.engine.delete('st:2')
      expect(await a.engine.status('st:1')).toEqual({ kind: 'pending', version: put.version, deleted: false })
      expect(await a.engine.status('st:2')).toEqual({ kind: 'pending', version: gone.version, deleted: true })
      await flushOutbox({ outbox: a.outbox, l3: a.sql, remainingMs: () => 60_000 })
      expect(await a.engine.status('st:1')).toMatchObject({ kind: 'synced', version: put.version, l3: true })
      expect(await a.engine.status('st:2')).toEqual({ kind: 'missing' })
    })

    it('searches, lists and counts the writes this instance put in the outbox before any flusher ran', async () => {
      const { instance } = deployment()
      const a = await instance()
      await a.engine.defineIndex({
        name: 'plans',
        prefix: 'u:',
        fields: { plan: { type: 'tag', path: '$.plan' } },
      })
      const pro = { index: 'plans', query: { eq: { field: 'plan', value: 'pro' } } }
      await a.engine.submit(SyncItem.fromJson('u:1', { plan: 'pro' }), { ack: 'stored' })
      await a.engine.submit(SyncItem.fromJson('u:2', { plan: 'free' }), { ack: 'stored' })
      // Logged through the outbox: in L2, not in L3 until a flusher runs.
      const moved = await a.engine.submit(SyncItem.fromJson('u:2', { plan: 'pro' }))
      await a.engine.submit(SyncItem.fromJson('u:3', { plan: 'pro' }))
      await a.engine.delete('u:1')
      expect(moved.ack).toBe('logged')
      expect((await a.sql.read(['u:3'])).has('u:3')).toBe(false)
      const found = await a.engine.search({ ...pro, values: true })
      expect(found.items).toEqual([
        { id: 'u:2', version: moved.version, value: { plan: 'pro' } },
        { id: 'u:3', version: expect.any(Number), value: { plan: 'pro' } },
      ])
      expect((await a.engine.listItems({ prefix: 'u:' })).items.map((item) => item.id)).toEqual([
        'u:2',
        'u:3',
      ])
      expect(await a.engine.countItems({ prefix: 'u:' })).toBe(2)
      // Once drained, L3 answers the same, and the instance forgets what it kept for it.
      await flushOutbox({ outbox: a.outbox, l3: a.sql, remainingMs: () => 60_000 })
      expect((await a.engine.search(pro)).items.map((item) => item.id)).toEqual(['u:2', 'u:3'])
      expect(await a.engine.countItems({ prefix: 'u:' })).toBe(2)
    })

    it('serves queued as logged when no timer outlives a request, and says so in the receipt', async () => {
      const { instance } = deployment()
      const a = await instance()
      const receipt = await a.engine.submit(SyncItem.fromJson('q', 1), { ack: 'queued' })
      expect(receipt.ack).toBe('logged')
      expect(a.outbox.stats().entries).toBe(1)
    })

    it('a write through an instance whose clock lags gets a version above the earlier write, and wins', async () => {
      const { instance } = deployment()
      const a = await instance()
      const lagging: Platform = { ...defaultPlatform, now: () => Date.now() - 60_000 }
      const b = await instance({ platform: lagging })
      const first = await a.engine.submit(SyncItem.fromJson('clock', { by: 'a' }))
      const second = await b.engine.submit(SyncItem.fromJson('clock', { by: 'b' }))
      expect(second.version).toBeGreaterThan(first.version)
      await flushOutbox({ outbox: a.outbox, l3: a.sql, remainingMs: () => 60_000 })
      const stored = (await a.sql.read(['clock'])).get('clock')
      expect(stored?.version).toBe(second.version)
      expect(new TextDecoder().decode(stored?.content ?? undefined)).toBe('{"by":"b"}')
      // B's clock moved past the version it was given: its next write is ordered after it too.
      const third = await b.engine.submit(SyncItem.fromJson('clock', { by: 'b2' }))
      expect(third.version).toBeGreaterThan(second.version)
    })

    it('refuses a caller version at or below the stored one with StaleVersionError (409)', async () => {
      const { instance } = deployment()
      const a = await instance()
      const b = await instance()
      const written = await a.engine.submit(SyncItem.fromJson('cv', 1))
      const stale = SyncItem.fromJson('cv', 2).withVersion(written.version - 1, Date.now())
      await expect(b.engine.submit(stale)).rejects.toBeInstanceOf(StaleVersionError)
    })

    it('bulk writes: each through the outbox with its own outcome; an SQL-only one is stored directly', async () => {
      const { instance } = deployment()
      const a = await instance()
      const results = await a.engine.submitMany(
        Array.from({ length: 30 }, (_, n) => SyncItem.fromJson(`bulk-${n}`, { n })),
      )
      expect(results.every((result) => result.ok && result.value.ack === 'logged')).toBe(true)
      const direct = await a.engine.submit(SyncItem.fromJson('sql-only', 1), { redis: false })
      expect(direct.ack).toBe('stored')
      // A stored write does not make the next request purge: with the outbox, the flusher purges.
      expect(a.engine.maintenanceDue).toBe(false)
      expect((await a.sql.read(['sql-only'])).get('sql-only')?.version).toBe(direct.version)
      expect(a.outbox.stats().entries).toBe(30)
    })

    it('a delete goes through the outbox, says it found the item, and no instance reads the item after it', async () => {
      const { instance } = deployment()
      const a = await instance()
      const b = await instance()
      await a.engine.submit(SyncItem.fromJson('gone', 1))
      await flushOutbox({ outbox: a.outbox, l3: a.sql, remainingMs: () => 60_000 })
      expect((await b.engine.get('gone'))?.text()).toBe('1')
      const receipt = await b.engine.delete('gone')
      expect(receipt).toMatchObject({ ack: 'logged', existed: true })
      const c = await instance()
      expect(await c.engine.get('gone')).toBeUndefined()
      await flushOutbox({ outbox: a.outbox, l3: a.sql, remainingMs: () => 60_000 })
      expect((await a.sql.read(['gone'])).get('gone')).toMatchObject({
        tombstone: true,
        version: receipt.version,
      })
    })

    it('keeps acknowledging logged writes while L3 is down; they are read from L2 and stored once it is back', async () => {
      const { instance } = deployment()
      let flaky: FlakyL3 | undefined
      const a = await instance({
        l3: (l3) => {
          flaky = new FlakyL3(l3)
          return flaky
        },
      })
      flaky!.down = true
      const receipt = await a.engine.submit(SyncItem.fromJson('outage', { ok: true }))
      expect(receipt.ack).toBe('logged')
      const b = await instance()
      expect((await b.engine.get('outage'))?.version).toBe(receipt.version)
      flaky!.down = false
      const report = await flushOutbox({ outbox: a.outbox, l3: a.sql, remainingMs: () => 60_000 })
      expect(report).toMatchObject({ drained: 1, left: 0 })
    })
  })
})
