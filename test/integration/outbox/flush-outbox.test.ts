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
  SyncItem,
  silentLogger,
} from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { createMysqlStore } from '@sync-engine/sql-mysql2'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { FlakyL3 } from '../../support/flaky-l3.ts'
import { deleteMatching } from '../conformance/l2-records.ts'
import { hlc, json, T } from '../conformance/wal-writes.ts'
import { describeWithMysql, describeWithRedis, mysqlTables, mysqlUrl, redisUrl } from '../support/services.ts'

const root = `test:flush:${randomBytes(4).toString('hex')}:`
const tables = mysqlTables()
let count = 0
const ROOMY = () => 60_000

describeWithRedis('the outbox flusher', () => {
  describeWithMysql('into MariaDB', () => {
    let transport: RedisTransport
    const stores: L3Store[] = []

    beforeAll(async () => {
      transport = await IoredisTransport.create({ url: redisUrl() })
    })
    afterAll(async () => {
      await deleteMatching(transport, `${escapeGlob(root)}*`)
      await Promise.allSettled(stores.map((store) => store.close()))
      await transport?.close()
      await tables.dropAll()
    })

    /** A fresh key prefix and table: an outbox, its store, and L3. */
    async function setup(shards = 4) {
      const store = await RedisStore.open(transport, { prefix: `${root}${count++}:`, shards })
      const outbox = new RedisOutbox(store, { maxBytes: 1 << 30 })
      await outbox.open()
      const l3 = createMysqlStore({ url: mysqlUrl(), table: tables.next() })
      stores.push(l3)
      await l3.init()
      return { store, outbox, l3 }
    }

    const versionsIn = async (l3: L3Store, ids: readonly string[]) => {
      const found = await l3.read(ids)
      return ids.map((id) => found.get(id)?.version)
    }

    it('drains every shard into L3 at each write’s latest version, and empties the outbox', async () => {
      const { outbox, l3 } = await setup()
      const writes = Array.from({ length: 300 }, (_, n) => json(`k${n % 200}`, hlc(n + 1), { n }))
      await outbox.put(writes.slice(0, 150), T)
      await outbox.put(writes.slice(150), T)
      const report = await flushOutbox({ outbox, l3, remainingMs: ROOMY })
      expect(report).toMatchObject({ drained: 300, stale: 0, failed: 0, left: 0, busy: 0, stopped: false })
      const ids = Array.from({ length: 200 }, (_, n) => `k${n}`)
      const latest = ids.map((_, n) => hlc(n < 100 ? n + 201 : n + 1))
      expect(await versionsIn(l3, ids)).toEqual(latest)
      expect(await outbox.countEntries()).toBe(0)
    })

    it('two flushers at once drain everything between them, each shard once', async () => {
      const { outbox, l3 } = await setup(8)
      const writes = Array.from({ length: 400 }, (_, n) => json(`two-${n}`, hlc(n + 1)))
      await outbox.put(writes, T)
      const [a, b] = await Promise.all([
        flushOutbox({ outbox, l3, remainingMs: ROOMY }),
        flushOutbox({ outbox, l3, remainingMs: ROOMY }),
      ])
      expect(a!.drained + b!.drained).toBe(400)
      expect(a!.busy + b!.busy).toBeLessThanOrEqual(8)
      expect(
        await versionsIn(
          l3,
          writes.map((write) => write.id),
        ),
      ).toEqual(writes.map((write) => write.version))
      expect(await outbox.countEntries()).toBe(0)
    })

    it('leaves a shard whose lease another flusher holds (a killed one: until it expires), then drains it', async () => {
      const { store, outbox, l3 } = await setup(1)
      await outbox.put([json('leased', hlc(1))], T)
      expect(await outbox.lease(0, 'killed-flusher', 200)).toBe(true)
      const blocked = await flushOutbox({ outbox, l3, remainingMs: ROOMY })
      expect(blocked).toMatchObject({ drained: 0, busy: 1, left: 1 })
      expect(await store.send(['PEXPIRE', store.keys.shardKey(0, 'o:lease'), 1])).toBe(1)
      await new Promise((resolve) => setTimeout(resolve, 20))
      const after = await flushOutbox({ outbox, l3, remainingMs: ROOMY })
      expect(after).toMatchObject({ drained: 1, busy: 0, left: 0 })
    })

    it('renews its lease while a drain runs, and stops draining a shard whose lease it lost', async () => {
      const { store, outbox, l3 } = await setup(1)
      // Six pages (5,000 entries each at most; two L3 writes in flight and one read ahead): the L3
      // writes wait until the test lets them go.
      for (let at = 0; at < 30_000; at += 2_000) {
        await outbox.put(
          Array.from({ length: 2_000 }, (_, n) => json(`lease-${at + n}`, hlc(at + n + 1))),
          T,
        )
      }
      let entered!: () => void
      const reached = new Promise<void>((resolve) => {
        entered = resolve
      })
      let release!: () => void
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      const gated = new FlakyL3(l3)
      const write = gated.write.bind(gated)
      gated.write = async (records, options) => {
        entered()
        await gate
        return write(records, options)
      }
      // Real time for everything (the L3 call's deadline among them) but the lease renewals, which
      // fire when the test says; a lease length no other timer of the run has.
      const LEASE = 45_678
      const renewals: (() => void)[] = []
      const platform: Platform = {
        ...defaultPlatform,
        setTimer: (fn, ms) => {
          if (ms !== LEASE / 3) return defaultPlatform.setTimer(fn, ms)
          renewals.push(fn)
          return renewals.length
        },
        clearTimer: (handle) => {
          if (typeof handle === 'number') renewals[handle - 1] = () => {}
          else defaultPlatform.clearTimer(handle)
        },
      }
      const renew = () => renewals.at(-1)!()
      const lease = store.keys.shardKey(0, 'o:lease')
      const pttl = async () => Number(await store.send(['PTTL', lease]))
      const until = async (what: string, check: () => Promise<boolean>) => {
        for (let i = 0; i < 500 && !(await check()); i++) await new Promise((r) => setTimeout(r, 5))
        if (!(await check())) throw new Error(`gave up waiting for ${what}`)
      }
      const warnings: string[] = []
      const logger = { ...silentLogger, warn: (_: object, message: string) => void warnings.push(message) }
      const running = flushOutbox({ outbox, l3: gated, remainingMs: ROOMY, leaseMs: LEASE, platform, logger })
      await reached
      // Longer than a lease: a third of a lease later the renewal has set it back to one lease.
      await store.send(['PEXPIRE', lease, 60_000])
      renew()
      await until('the renewal', async () => (await pttl()) <= LEASE)
      // It expires (this process stalled) and another flusher takes the shard: the next renewal
      // finds it gone, and the drain stops after the pages in flight.
      await store.send(['SET', lease, 'another-flusher', 'PX', 60_000])
      await until('the next renewal armed', async () => renewals.length === 2)
      renew()
      await until('the lease found lost', async () => warnings.some((m) => /lease lost/.test(m)))
      release()
      const report = await running
      expect(report.stopped).toBe(true)
      expect(report.left).toBeGreaterThan(0)
      expect(report.drained + report.left).toBe(30_000)
      // Not released: it is the other flusher's.
      expect(new TextDecoder().decode((await store.send(['GET', lease])) as Uint8Array)).toBe(
        'another-flusher',
      )
      // Armed twice: once lost, the lease is not renewed again.
      expect(renewals).toHaveLength(2)
    })

    it('keeps every entry while L3 is down (failed, left) and drains them once it is back', async () => {
      const { outbox, l3 } = await setup(2)
      const flaky = new FlakyL3(l3)
      await outbox.put(
        Array.from({ length: 50 }, (_, n) => json(`down-${n}`, hlc(n + 1))),
        T,
      )
      flaky.failWrites = 1_000
      const down = await flushOutbox({ outbox, l3: flaky, remainingMs: ROOMY })
      expect(down).toMatchObject({ drained: 0, left: 50 })
      expect(down.failed).toBeGreaterThan(0)
      flaky.failWrites = 0
      const back = await flushOutbox({ outbox, l3: flaky, remainingMs: ROOMY })
      expect(back).toMatchObject({ drained: 50, failed: 0, left: 0 })
    })

    it('an entry L3 holds a newer version of is counted stale, removed, and its L2 copy dropped', async () => {
      const { store, outbox, l3 } = await setup(1)
      // Another instance stored a newer version straight to L3 (ack stored), and L2 had no copy.
      await l3.write([{ ...json('newer', hlc(900)).item!, tombstone: false }])
      await outbox.put([json('newer', hlc(500)), json('fine', hlc(501))], T)
      const report = await flushOutbox({ outbox, l3, remainingMs: ROOMY })
      expect(report).toMatchObject({ drained: 1, stale: 1, left: 0 })
      expect(await versionsIn(l3, ['newer', 'fine'])).toEqual([hlc(900), hlc(501)])
      expect((await store.read(['newer'])).has('newer')).toBe(false)
      expect((await store.read(['fine'])).get('fine')).toMatchObject({ version: hlc(501) })
    })

    it('a rerun after a drain that stored a page but did not remove it stores nothing twice and counts nothing stale', async () => {
      const { outbox, l3 } = await setup(1)
      await outbox.put([json('again', hlc(7))], T)
      const [entry] = await outbox.shards[0]!.read(0, 10)
      await l3.write([{ ...entry!.write.item!, tombstone: false }])
      const report = await flushOutbox({ outbox, l3, remainingMs: ROOMY })
      expect(report).toMatchObject({ drained: 1, stale: 0, left: 0 })
    })

    it('counts entries L3 refuses for good as rejected (acknowledged writes lost: never hidden as drained)', async () => {
      const { outbox, l3 } = await setup(1)
      // JSON MariaDB's JSON_VALID refuses, past the engine's own check (which refuses it at submit).
      const deep = new TextEncoder().encode(`${'['.repeat(40)}1${']'.repeat(40)}`)
      const item = SyncItem.restore({
        id: 'too-deep',
        content: deep,
        contentType: 'json',
        mime: 'application/json',
        hash: '',
        state: 'default',
        version: hlc(5),
        updatedAt: T,
      })
      await outbox.put([{ ...json('too-deep', hlc(5)), item }, json('fine', hlc(6))], T)
      const report = await flushOutbox({ outbox, l3, remainingMs: ROOMY })
      expect(report).toMatchObject({ drained: 1, rejected: 1, left: 0 })
      expect(await versionsIn(l3, ['too-deep', 'fine'])).toEqual([undefined, hlc(6)])
    })

    it('stops when the invocation runs out of time, leaving the rest for the next run', async () => {
      const { outbox, l3 } = await setup(4)
      await outbox.put(
        Array.from({ length: 20 }, (_, n) => json(`late-${n}`, hlc(n + 1))),
        T,
      )
      const report = await flushOutbox({ outbox, l3, remainingMs: () => 1_000 })
      expect(report).toMatchObject({ drained: 0, left: 20, stopped: true })
    })
  })
})
