import { randomBytes } from 'node:crypto'
import {
  escapeGlob,
  LogTargetMismatchError,
  type PendingWrite,
  RedisOutbox,
  RedisStore,
  type RedisTransport,
  StaleVersionError,
  SyncItem,
  WalFullError,
} from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { UpstashTransport } from '@sync-engine/redis-upstash'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startUpstashRestServer, type UpstashRestServer } from '../../support/upstash-rest-server.ts'
import { deleteMatching } from '../conformance/l2-records.ts'
import { hlc, json, T, tombstone } from '../conformance/wal-writes.ts'
import { describeWithRedis, redisUrl } from '../support/services.ts'

const root = `test:rob:${randomBytes(4).toString('hex')}:`
let count = 0

/** A store with a key prefix of its own and its outbox, opened; `shards` of the key layout. */
async function outboxOn(transport: RedisTransport, shards = 4, maxBytes = 1 << 30) {
  const store = await RedisStore.open(transport, { prefix: `${root}${count++}:`, shards })
  const outbox = new RedisOutbox(store, { maxBytes })
  await outbox.open()
  return { store, outbox }
}

const entriesOf = async (outbox: RedisOutbox) =>
  (await Promise.all(outbox.shards.map((shard) => shard.read(0, 10_000)))).flat().map((entry) => entry.write)

function outboxCases(name: string, transport: () => Promise<RedisTransport>) {
  describe(name, () => {
    const opened: RedisTransport[] = []
    const open = async () => {
      const made = await transport()
      opened.push(made)
      return made
    }
    afterAll(async () => {
      await Promise.allSettled(opened.map((made) => made.close()))
    })

    it('writes the item to L2 and its entry to its shard in one call; L2 serves it at the entry version', async () => {
      const { store, outbox } = await outboxOn(await open())
      const writes = Array.from({ length: 40 }, (_, n) => json(`item-${n}`, hlc(n + 1), { n }))
      const outcomes = await outbox.put(writes, T)
      expect(outcomes.map((outcome) => outcome.ok && outcome.version)).toEqual(writes.map((w) => w.version))
      const read = await store.read(writes.map((write) => write.id))
      for (const write of writes) expect(read.get(write.id)).toMatchObject({ version: write.version })
      const logged = await entriesOf(outbox)
      expect(logged.map((write) => write.id).sort()).toEqual(writes.map((write) => write.id).sort())
      // Each entry is in the shard of its id, the one whose hash tag its item key carries.
      for (const shard of outbox.shards) {
        for (const entry of await shard.read(0, 100))
          expect(store.keys.shardOf(entry.write.id)).toBe(shard.shard)
      }
      expect(outbox.stats().entries).toBe(40)
    })

    it('raises a lagging clock version above the one L2 holds, in L2 and in the entry alike', async () => {
      const { store, outbox } = await outboxOn(await open())
      await outbox.put([json('skew', hlc(1_000), { from: 'a' })], T)
      const [late] = await outbox.put([json('skew', hlc(500), { from: 'b' })], T)
      expect(late).toEqual({ ok: true, version: hlc(1_001), replacedLive: true })
      const stored = (await store.read(['skew'])).get('skew')
      expect(stored).toMatchObject({ version: hlc(1_001) })
      expect(new TextDecoder().decode((stored as { content: Uint8Array }).content)).toBe('{"from":"b"}')
      const logged = (await entriesOf(outbox)).filter((write) => write.id === 'skew')
      expect(logged.map((write) => [write.version, write.item?.version])).toEqual([
        [hlc(1_000), hlc(1_000)],
        [hlc(1_001), hlc(1_001)],
      ])
    })

    it('refuses a caller version at or below the one L2 holds (stale, with it), writing nothing', async () => {
      const { store, outbox } = await outboxOn(await open())
      await outbox.put([json('mine', hlc(10))], T)
      const mine: PendingWrite = { ...json('mine', hlc(9)), callerVersioned: true }
      const [outcome] = await outbox.put([mine], T)
      expect(outcome?.ok).toBe(false)
      const error = (outcome as { error: unknown }).error as StaleVersionError
      expect(error).toBeInstanceOf(StaleVersionError)
      expect(error.currentVersion).toBe(hlc(10))
      expect((await store.read(['mine'])).get('mine')).toMatchObject({ version: hlc(10) })
      expect((await entriesOf(outbox)).length).toBe(1)
      const ahead: PendingWrite = { ...json('mine', hlc(20)), callerVersioned: true }
      expect(await outbox.put([ahead], T)).toEqual([{ ok: true, version: hlc(20), replacedLive: true }])
    })

    it('a cache-only write goes to L2 alone; a delete says whether it found the item; a TTL is kept in both', async () => {
      const { store, outbox } = await outboxOn(await open())
      const cacheOnly: PendingWrite = {
        ...json('cache', hlc(1)),
        route: { l2: true, l3: false, ttlMs: undefined },
      }
      const ttl: PendingWrite = {
        ...json('ttl', hlc(2)),
        route: { l2: true, l3: true, ttlMs: 60_000 },
        expiresAt: Date.now() + 60_000,
      }
      await outbox.put([cacheOnly, ttl], Date.now())
      expect((await store.read(['cache'])).get('cache')).toMatchObject({ version: hlc(1) })
      const logged = await entriesOf(outbox)
      expect(logged.map((write) => write.id)).toEqual(['ttl'])
      expect(logged[0]?.expiresAt).toBe(ttl.expiresAt)
      const [found, missing] = await outbox.put(
        [tombstone('ttl', hlc(3)), tombstone('never', hlc(4))],
        Date.now(),
      )
      expect(found).toEqual({ ok: true, version: hlc(3), replacedLive: true })
      expect(missing).toEqual({ ok: true, version: hlc(4), replacedLive: false })
    })

    it('refuses an append for another L3 than the one its shard is tied to; a flusher never re-ties one', async () => {
      const { store, outbox } = await outboxOn(await open(), 1)
      outbox.useTarget('mysql:db-a#items')
      expect((await outbox.put([json('tied', hlc(1))], T))[0]?.ok).toBe(true)
      const other = new RedisOutbox(store, { maxBytes: 1 << 30 })
      other.useTarget('mysql:db-b#items')
      const [refused] = await other.put([json('elsewhere', hlc(2))], T)
      expect((refused as { error: unknown }).error).toBeInstanceOf(LogTargetMismatchError)
      expect((await store.read(['elsewhere'])).has('elsewhere')).toBe(false)
      // Emptied, the shard stays tied: a flusher for another database refuses, and re-ties nothing.
      await outbox.shards[0]!.removeThrough(1_000)
      await expect(other.verify('mysql:db-b#items')).rejects.toBeInstanceOf(LogTargetMismatchError)
      await outbox.verify('mysql:db-a#items')
      expect((await other.put([json('elsewhere', hlc(3))], T))[0]?.ok).toBe(false)
    })

    it('a write whose TTL ran out before it arrived still replaces the older copy (which then expires)', async () => {
      const { store, outbox } = await outboxOn(await open())
      await outbox.put([json('ttl-late', hlc(1), { old: true })], T)
      const late: PendingWrite = {
        ...json('ttl-late', hlc(2), { new: true }),
        route: { l2: true, l3: true, ttlMs: 5 },
        expiresAt: Date.now() - 1,
      }
      expect((await outbox.put([late], Date.now()))[0]).toMatchObject({ ok: true, version: hlc(2) })
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect((await store.read(['ttl-late'])).has('ttl-late')).toBe(false)
      expect((await entriesOf(outbox)).map((write) => write.version)).toEqual([hlc(1), hlc(2)])
    })

    it('repairs a seq counter that fell behind its stream instead of failing every later append', async () => {
      const { store, outbox } = await outboxOn(await open(), 1)
      await outbox.put([json('s1', hlc(1)), json('s2', hlc(2))], T)
      await store.send(['DEL', store.keys.shardKey(0, 'o:seq')])
      expect((await outbox.put([json('s3', hlc(3))], T))[0]?.ok).toBe(true)
      const entries = await outbox.shards[0]!.read(0, 10)
      expect(entries.map((entry) => entry.write.id)).toEqual(['s1', 's2', 's3'])
      expect(entries[2]!.seq).toBeGreaterThan(entries[1]!.seq)
      expect((await store.read(['s3'])).get('s3')).toMatchObject({ version: hlc(3) })
    })

    it('refuses the writes of a shard past its bound with WalFullError and writes none of them', async () => {
      const { store, outbox } = await outboxOn(await open(), 1, 600)
      const big = (id: string, n: number) => ({
        ...json(id, hlc(n)),
        item: SyncItem.fromBinary(id, new Uint8Array(400)).withVersion(hlc(n), T),
      })
      expect((await outbox.put([big('one', 1)], T))[0]?.ok).toBe(true)
      const [refused] = await outbox.put([big('two', 2)], T)
      expect((refused as { error: unknown }).error).toBeInstanceOf(WalFullError)
      expect((await store.read(['two'])).has('two')).toBe(false)
      expect((await entriesOf(outbox)).map((write) => write.id)).toEqual(['one'])
    })
  })
}

describeWithRedis('Redis outbox: writes', () => {
  let cleaner: RedisTransport
  const token = `tok-${randomBytes(12).toString('hex')}`
  let server: UpstashRestServer
  beforeAll(async () => {
    cleaner = await IoredisTransport.create({ url: redisUrl() })
    server = await startUpstashRestServer({ redisUrl: redisUrl(), token })
  })
  afterAll(async () => {
    await deleteMatching(cleaner, `${escapeGlob(root)}*`)
    await cleaner?.close()
    await server?.close()
  })

  outboxCases('over ioredis', () => IoredisTransport.create({ url: redisUrl() }))
  outboxCases('over Upstash REST (text only: envelopes as base64)', () =>
    UpstashTransport.create({ url: server.url, token }),
  )

  it('counts the entries of every shard in one round trip (Upstash: one HTTP request)', async () => {
    const upstash = await UpstashTransport.create({ url: server.url, token })
    const trips: string[] = []
    const counting: RedisTransport = {
      driver: 'counting',
      binarySafe: upstash.binarySafe,
      send: (command) => {
        trips.push(`send ${command[0]}`)
        return upstash.send(command)
      },
      pipeline: (commands) => {
        trips.push(`pipeline ${commands.length}`)
        return upstash.pipeline(commands)
      },
      transaction: (commands) => upstash.transaction(commands),
      detectCapabilities: () => upstash.detectCapabilities(),
      close: () => upstash.close(),
    }
    const { outbox } = await outboxOn(counting, 8)
    await outbox.put(
      Array.from({ length: 40 }, (_, n) => json(`count-${n}`, hlc(n + 1))),
      T,
    )
    trips.length = 0
    expect(await outbox.countEntries()).toBe(40)
    expect(trips).toEqual(['pipeline 8'])
    await upstash.close()
  })

  it('touches one hash tag per script call: an item key and its shard share a slot on a cluster', async () => {
    const transport = await IoredisTransport.create({ url: redisUrl() })
    const calls: string[][] = []
    const recording: RedisTransport = {
      driver: 'recording',
      send: (command) => transport.send(command),
      pipeline: (commands) => {
        for (const command of commands) {
          if (command[0] === 'EVAL' || command[0] === 'EVALSHA') {
            calls.push(command.slice(3, 3 + Number(command[2])).map(String))
          }
        }
        return transport.pipeline(commands)
      },
      transaction: (commands) => transport.transaction(commands),
      detectCapabilities: () => transport.detectCapabilities(),
      close: () => transport.close(),
    }
    const { outbox } = await outboxOn(recording, 8)
    await outbox.put(
      Array.from({ length: 64 }, (_, n) => json(`slot-${n}`, hlc(n + 1))),
      T,
    )
    expect(calls.length).toBeGreaterThan(1)
    for (const keys of calls) {
      const tags = new Set(keys.map((key) => /\{(\d+)\}/.exec(key)?.[1]))
      expect(tags.size).toBe(1)
      expect(tags.has(undefined)).toBe(false)
    }
    await transport.close()
  })
})
