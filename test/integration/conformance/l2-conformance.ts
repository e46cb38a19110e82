import { randomUUID } from 'node:crypto'
import {
  BackendError,
  encodeEnvelope,
  escapeGlob,
  InvalidArgumentError,
  type L2Store,
  type L2Value,
  RedisStore,
  type RedisStoreOptions,
  type RedisTransport,
  sha256Hex,
} from '@sync-engine/core/internal'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeByteFidelity } from './l2-byte-fidelity.ts'
import { describeConditionsAndHeads } from './l2-conditions.ts'
import { CountingTransport } from './l2-counting-transport.ts'
import {
  binaryRecord,
  bytes,
  deleteMatching,
  expectRecord,
  jsonRecord,
  recordOf,
  shuffle,
  sleep,
  tombstone,
} from './l2-records.ts'
import { describeRedisInternals } from './l2-redis-internals.ts'

export interface L2ConformanceOptions {
  /** Largest value the backend takes in one request (Upstash: 10 MB); bigger cases are skipped. */
  maxValueBytes?: number
  /**
   * For a transport that is not binary-safe (`binarySafe: false`): a binary-safe connection to the
   * same Redis, through which the cases plant damaged bytes (foreign values, cut envelopes). The
   * transport under test still does everything else.
   */
  planter?: () => Promise<RedisTransport>
}

/**
 * An L2 that is not Redis (the memory store): the suite runs every case of the `L2Store` contract
 * on it, and skips the ones that reach past the store into a Redis server (raw commands that damage
 * keys, PTTL, round-trip counts, the key namespace, the transport) — it has none of those.
 */
export interface L2StoreBackend {
  /** A new, initialised store of its own that keeps tombstones for `tombstoneRetentionMs`. */
  makeStore(options: { tombstoneRetentionMs: number }): Promise<L2Store>
}

const TOMBSTONE_RETENTION_MS = 60_000

/**
 * The L2 driver conformance suite: the same cases for every Redis transport (ioredis today,
 * Upstash next), each run against its real backend, and for an `L2StoreBackend`. Each Redis run
 * uses its own key prefix and removes only that prefix afterwards (SCAN + UNLINK, never FLUSHDB).
 */
export function runL2Conformance(
  name: string,
  backend: (() => Promise<RedisTransport>) | L2StoreBackend,
  options: L2ConformanceOptions = {},
): void {
  const makeTransport = typeof backend === 'function' ? backend : undefined
  const onRedis = makeTransport !== undefined
  /** A case that needs the Redis server behind the store: skipped for an `L2StoreBackend`. */
  const itRedis = onRedis ? it : it.skip
  describe(`L2 conformance: ${name}`, () => {
    const prefix = `test:${randomUUID().slice(0, 8)}:`
    const opened: RedisTransport[] = []
    let raw: RedisTransport
    /** Where damaged bytes are planted: `raw`, or `options.planter` for a text-only transport. */
    let planter: RedisTransport
    let counting: CountingTransport
    /** On Redis, `store` itself; the cases that use it run on Redis only. */
    let redisStore: RedisStore
    let store: L2Store

    const open = async () => {
      const transport = await makeTransport!()
      opened.push(transport)
      return transport
    }
    const storeOn = (transport: RedisTransport, extra: RedisStoreOptions = {}) =>
      RedisStore.open(transport, {
        prefix,
        tombstoneRetentionMs: TOMBSTONE_RETENTION_MS,
        // The search projections too, where the server keeps them (Redis 8 under test:containers).
        searchProjections: true,
        ...extra,
      })
    const makeStore = (storeOptions: { tombstoneRetentionMs: number }) =>
      (backend as L2StoreBackend).makeStore(storeOptions)
    const readOne = async (id: string) => (await store.read([id])).get(id)

    beforeAll(async () => {
      if (!onRedis) {
        store = await makeStore({ tombstoneRetentionMs: TOMBSTONE_RETENTION_MS })
        return
      }
      raw = await open()
      planter = raw
      if (options.planter) {
        planter = await options.planter()
        opened.push(planter)
      }
      counting = new CountingTransport(await open())
      redisStore = await storeOn(counting)
      store = redisStore
    })

    afterAll(async () => {
      if (raw) await deleteMatching(raw, `${escapeGlob(prefix)}*`)
      await Promise.allSettled(opened.map((transport) => transport.close()))
      if (!onRedis) await store?.close()
    })

    describe('basics', () => {
      it('reports its driver and detected capabilities, and answers ping', async () => {
        if (onRedis) expect(store.driver).toBe(raw.driver)
        else expect(store.driver).toEqual(expect.any(String))
        for (const flag of ['json', 'search', 'cluster'] as const) {
          expect(typeof store.capabilities[flag]).toBe('boolean')
        }
        await expect(store.ping()).resolves.toBeUndefined()
      })

      it('writes, reads, overwrites with a newer version, and hard-deletes', async () => {
        const first = binaryRecord('crud', 1, bytes(1, 2, 3), { state: 'draft', mime: 'image/png' })
        expect(await store.write([{ record: first }])).toEqual({ applied: 1, stale: [] })
        expectRecord(await readOne('crud'), first)

        const second = jsonRecord('crud', 2, { v: 2 })
        expect(await store.write([{ record: second }])).toEqual({
          applied: 1,
          stale: [],
          replacedLive: ['crud'],
        })
        expectRecord(await readOne('crud'), second)

        expect(await store.delete(['crud', 'never-written'])).toBe(1)
        expect(await readOne('crud')).toBeUndefined()
        expect(await store.delete(['crud'])).toBe(0)
      })

      it('returns nothing for ids never written, and an empty map for no ids', async () => {
        expect((await store.read(['absent-1', 'absent-2'])).size).toBe(0)
        expect((await store.read([])).size).toBe(0)
        expect(await store.write([])).toEqual({ applied: 0, stale: [] })
      })

      it('rejects an invalid entry before sending anything', async () => {
        counting?.reset()
        const good = binaryRecord('valid-1', 1, bytes(1))
        await expect(
          store.write([{ record: good }, { record: { ...good, id: 'valid-2', version: 0 } }]),
        ).rejects.toBeInstanceOf(InvalidArgumentError)
        await expect(store.write([{ record: good, ttlMs: -5 }])).rejects.toBeInstanceOf(InvalidArgumentError)
        await expect(store.write([{ record: { ...good, hash: 'nope' } }])).rejects.toBeInstanceOf(
          InvalidArgumentError,
        )
        if (onRedis) expect(counting.calls).toBe(0)
        expect(await readOne('valid-1')).toBeUndefined()
      })
    })

    describeByteFidelity(() => store, options)

    describe('version guard', () => {
      it('ignores an older write after a newer one and reports it stale', async () => {
        await store.write([{ record: jsonRecord('guard', 20, { v: 20 }) }])
        const older = jsonRecord('guard', 19, { v: 19 })
        expect(await store.write([{ record: older }])).toEqual({ applied: 0, stale: ['guard'] })
        expect(recordOf(await readOne('guard')).version).toBe(20)
      })

      it('treats a write at the stored version as a no-op, neither applied nor stale', async () => {
        const original = jsonRecord('same', 7, { original: true })
        await store.write([{ record: original }])
        const again = jsonRecord('same', 7, { original: false })
        expect(await store.write([{ record: again }])).toEqual({ applied: 0, stale: [] })
        expectRecord(await readOne('same'), original)
      })

      it('compares versions as exact integers near 2^53', async () => {
        const high = Number.MAX_SAFE_INTEGER
        await store.write([{ record: binaryRecord('big-version', high - 1, bytes(1)) }])
        expect((await store.write([{ record: binaryRecord('big-version', high, bytes(2)) }])).applied).toBe(1)
        const stale = await store.write([{ record: binaryRecord('big-version', high - 1, bytes(3)) }])
        expect(stale.stale).toEqual(['big-version'])
        expect(recordOf(await readOne('big-version')).version).toBe(high)
      })

      it('keeps the highest version when a batch holds an id twice, in either order', async () => {
        const result = await store.write([
          { record: binaryRecord('twice-a', 5, bytes(5)) },
          { record: binaryRecord('twice-a', 3, bytes(3)) },
          { record: binaryRecord('twice-b', 3, bytes(3)) },
          { record: binaryRecord('twice-b', 5, bytes(5)) },
        ])
        expect(result).toEqual({ applied: 3, stale: ['twice-a'], replacedLive: ['twice-b'] })
        const found = await store.read(['twice-a', 'twice-b'])
        expect(recordOf(found.get('twice-a')).version).toBe(5)
        expect(recordOf(found.get('twice-b')).version).toBe(5)
      })

      itRedis(
        'gives every key of one batch the verdict it gets alone: newer, older, same, repair, corrupt, TTL',
        async () => {
          const key = (id: string) => redisStore.keys.itemKey(id)
          await store.write([
            { record: binaryRecord('mix-newer', 5, bytes(5)) },
            { record: binaryRecord('mix-older', 5, bytes(5)) },
            { record: binaryRecord('mix-same', 5, bytes(5)) },
            { record: binaryRecord('mix-repair', 5, bytes(5)) },
          ])
          await raw.send(['RPUSH', key('mix-list'), 'x'])
          const truncated = encodeEnvelope(binaryRecord('mix-cut', 9, bytes(1, 2, 3)))
          await planter.send(['SET', key('mix-cut'), truncated.subarray(0, truncated.length - 1)])
          const result = await store.write([
            { record: binaryRecord('mix-newer', 6, bytes(6)) },
            { record: binaryRecord('mix-older', 4, bytes(4)) },
            { record: binaryRecord('mix-same', 5, bytes(7)) },
            { record: binaryRecord('mix-repair', 5, bytes(8)), repair: true },
            { record: binaryRecord('mix-list', 1, bytes(1)) },
            { record: binaryRecord('mix-cut', 2, bytes(2)), ttlMs: 60_000 },
            { record: binaryRecord('mix-new', 1, bytes(1)) },
          ])
          // Over a live item (newer, repair) the guard says so; over damage or nothing it does not.
          expect(result).toEqual({
            applied: 5,
            stale: ['mix-older'],
            replacedLive: ['mix-newer', 'mix-repair'],
          })
          const found = await store.read([
            'mix-newer',
            'mix-older',
            'mix-same',
            'mix-repair',
            'mix-list',
            'mix-cut',
          ])
          expect(
            ['mix-newer', 'mix-older', 'mix-same', 'mix-repair', 'mix-list', 'mix-cut'].map((id) => {
              const record = recordOf(found.get(id))
              return [id, record.version, [...record.content!]]
            }),
          ).toEqual([
            ['mix-newer', 6, [6]],
            ['mix-older', 5, [5]],
            ['mix-same', 5, [5]],
            ['mix-repair', 5, [8]],
            ['mix-list', 1, [1]],
            ['mix-cut', 2, [2]],
          ])
          const pttl = (await raw.send(['PTTL', key('mix-cut')])) as number
          expect(pttl).toBeGreaterThan(0)
          expect(await raw.send(['PTTL', key('mix-new')])).toBe(-1)
        },
      )

      it('reports stale ids in order across a write of more keys than one script call takes', async () => {
        const ids = Array.from({ length: 700 }, (_, i) => `batch-${i}`)
        await store.write(ids.map((id) => ({ record: binaryRecord(id, 10, bytes(1)) })))
        // Every third write is older than what is stored.
        const result = await store.write(
          ids.map((id, i) => ({ record: binaryRecord(id, i % 3 === 0 ? 9 : 11, bytes(2)) })),
        )
        expect(result.stale).toEqual(ids.filter((_, i) => i % 3 === 0))
        expect(result.applied).toBe(ids.length - result.stale.length)
        const found = await store.read(ids)
        expect(ids.map((id) => recordOf(found.get(id)).version)).toEqual(
          ids.map((_, i) => (i % 3 === 0 ? 10 : 11)),
        )
      })

      it('ends at the highest version with 32 concurrent writers of one id', async () => {
        // A store that is not Redis has no other connections: its 32 writers share it.
        const transports = onRedis ? await Promise.all(Array.from({ length: 8 }, () => open())) : []
        const stores = onRedis
          ? await Promise.all(transports.map((transport) => storeOn(transport)))
          : [store]
        const versions = shuffle(Array.from({ length: 32 }, (_, i) => 1000 + i))
        const results = await Promise.all(
          versions.map((version, i) =>
            stores[i % stores.length]!.write([
              { record: binaryRecord('contended', version, bytes(version % 256)) },
            ]),
          ),
        )
        const applied = results.reduce((sum, r) => sum + r.applied, 0)
        const stale = results.reduce((sum, r) => sum + r.stale.length, 0)
        expect(applied + stale).toBe(32)
        expect(applied).toBeGreaterThanOrEqual(1)
        const final = recordOf(await readOne('contended'))
        expect(final.version).toBe(1031)
        expect([...final.content!]).toEqual([1031 % 256])
      })

      it('replaces the same version only when asked to repair, and never a newer one', async () => {
        const stored = binaryRecord('repair', 4, bytes(1, 2, 3))
        // Same length, same version, one byte flipped: only the hash can tell (getVerified).
        if (onRedis) {
          await store.write([{ record: stored }])
          const damaged = encodeEnvelope(stored)
          damaged[damaged.length - 1] = 9
          await planter.send(['SET', redisStore.keys.itemKey('repair'), damaged])
        } else {
          // Without raw access to the backend, the damage is other bytes under the same version and hash.
          await store.write([{ record: { ...stored, content: bytes(1, 2, 9) } }])
        }
        expect(await store.write([{ record: stored }])).toEqual({ applied: 0, stale: [] })
        expect(sha256Hex(recordOf(await readOne('repair')).content!)).not.toBe(stored.hash)
        expect(await store.write([{ record: stored, repair: true }])).toEqual({
          applied: 1,
          stale: [],
          replacedLive: ['repair'],
        })
        expectRecord(await readOne('repair'), stored)
        const older = binaryRecord('repair', 3, bytes(3))
        expect(await store.write([{ record: older, repair: true }])).toEqual({
          applied: 0,
          stale: ['repair'],
        })
        expectRecord(await readOne('repair'), stored)
      })
    })

    describe('tombstones', () => {
      it('hides the item behind a newer tombstone, which reads back as a tombstone', async () => {
        await store.write([{ record: jsonRecord('gone', 1, { alive: true }) }])
        expect(await store.write([{ record: tombstone('gone', 2) }])).toEqual({
          applied: 1,
          stale: [],
          replacedLive: ['gone'],
        })
        const read = recordOf(await readOne('gone'))
        expect(read).toMatchObject({ id: 'gone', version: 2, tombstone: true, content: null })
      })

      it('does not let an older put resurrect a deleted item', async () => {
        await store.write([{ record: tombstone('dead', 10) }])
        const late = await store.write([{ record: jsonRecord('dead', 9, { zombie: true }) }])
        expect(late).toEqual({ applied: 0, stale: ['dead'] })
        expect(recordOf(await readOne('dead')).tombstone).toBe(true)
        // A genuinely newer put is a re-creation and wins.
        await store.write([{ record: jsonRecord('dead', 11, { reborn: true }) }])
        expect(recordOf(await readOne('dead')).tombstone).toBe(false)
      })

      itRedis('gives a tombstone the retention TTL, whatever TTL the entry asks for', async () => {
        await store.write([{ record: tombstone('tomb-ttl', 1), ttlMs: 5 }])
        const pttl = await raw.send(['PTTL', redisStore.keys.itemKey('tomb-ttl')])
        expect(typeof pttl).toBe('number')
        expect(pttl as number).toBeGreaterThan(5)
        expect(pttl as number).toBeLessThanOrEqual(TOMBSTONE_RETENTION_MS)
      })
    })

    describe('TTL', () => {
      it('expires an entry written with ttlMs 200', async () => {
        await store.write([{ record: binaryRecord('short-lived', 1, bytes(1)), ttlMs: 200 }])
        if (onRedis) {
          const pttl = (await raw.send(['PTTL', redisStore.keys.itemKey('short-lived')])) as number
          expect(pttl).toBeGreaterThan(0)
          expect(pttl).toBeLessThanOrEqual(200)
        }
        // Poll (bounded) rather than assert timing.
        let value: L2Value | undefined = recordOf(await readOne('short-lived'))
        for (let i = 0; i < 200 && value !== undefined; i++) {
          await sleep(25)
          value = await readOne('short-lived')
        }
        expect(value).toBeUndefined()
      })

      itRedis('sets, replaces and clears the TTL with each newer write, in the same command', async () => {
        const key = redisStore.keys.itemKey('ttl-change')
        await store.write([{ record: binaryRecord('ttl-change', 1, bytes(1)), ttlMs: 60_000 }])
        expect((await raw.send(['PTTL', key])) as number).toBeGreaterThan(30_000)
        await store.write([{ record: binaryRecord('ttl-change', 2, bytes(2)), ttlMs: 5_000 }])
        expect((await raw.send(['PTTL', key])) as number).toBeLessThanOrEqual(5_000)
        await store.write([{ record: binaryRecord('ttl-change', 3, bytes(3)) }])
        expect(await raw.send(['PTTL', key])).toBe(-1)
        // A stale write leaves value and TTL alone.
        await store.write([{ record: binaryRecord('ttl-change', 2, bytes(2)), ttlMs: 1_000 }])
        expect(await raw.send(['PTTL', key])).toBe(-1)
      })
    })

    describe('batches and round trips', () => {
      it('writes 2,500 entries in one pipeline and reads them back in one call', async () => {
        const records = Array.from({ length: 2500 }, (_, i) =>
          i % 2 === 0 ? jsonRecord(`batch/${i}`, 1, { i }) : binaryRecord(`batch/${i}`, 1, bytes(i % 256, 0)),
        )
        // A fresh store has not run its script yet: the first batch must still be one round trip.
        const fresh = onRedis ? await storeOn(counting) : store
        counting?.reset()
        expect(await fresh.write(records.map((record) => ({ record })))).toEqual({ applied: 2500, stale: [] })
        if (onRedis) {
          expect(counting.calls).toBe(1)
          expect(counting.names.filter((n) => n === 'EVAL')).toHaveLength(1)
        }

        counting?.reset()
        const found = await store.read(records.map((r) => r.id))
        if (onRedis) expect(counting.calls).toBe(1)
        expect(found.size).toBe(2500)
        for (const record of records) expectRecord(found.get(record.id), record)
      })

      itRedis('reads one id with one command in one round trip', async () => {
        await store.write([{ record: jsonRecord('single', 1, { one: 1 }) }])
        counting.reset()
        expectRecord(await readOne('single'), jsonRecord('single', 1, { one: 1 }))
        expect(counting.calls).toBe(1)
        expect(counting.commands).toBe(1)
        expect(counting.names).toEqual(['GET'])
        counting.reset()
        expect(await readOne('single-missing')).toBeUndefined()
        expect(counting.calls).toBe(1)
      })

      it('reads many ids, hits and misses mixed, in one round trip', async () => {
        await store.write([
          { record: binaryRecord('many-1', 1, bytes(1)) },
          { record: tombstone('many-2', 1) },
        ])
        counting?.reset()
        const found = await store.read(['many-1', 'many-2', 'many-3', 'many-1'])
        if (onRedis) expect(counting.calls).toBe(1)
        expect([...found.keys()].sort()).toEqual(['many-1', 'many-2'])
      })
    })

    describe('prefix scans', () => {
      const ids = [
        'scan/a*b',
        'scan/a?c',
        'scan/a[1]',
        'scan/a\\d',
        'scan/aXb',
        'scan/ab',
        'scan/b',
        'scanner',
      ]

      beforeAll(async () => {
        await store.write(ids.map((id, i) => ({ record: binaryRecord(id, 1, bytes(i)) })))
      })

      it('matches glob metacharacters in the prefix literally', async () => {
        const scan = async (p: string) => (await store.scanPrefix(p)).ids.sort()
        expect(await scan('scan/a*')).toEqual(['scan/a*b'])
        expect(await scan('scan/a?')).toEqual(['scan/a?c'])
        expect(await scan('scan/a[')).toEqual(['scan/a[1]'])
        expect(await scan('scan/a[1]')).toEqual(['scan/a[1]'])
        expect(await scan('scan/a\\')).toEqual(['scan/a\\d'])
        expect(await scan('scan/a')).toHaveLength(6)
        expect(await store.countPrefix('scan/')).toBe(7)
        expect(await store.countPrefix('scan')).toBe(8)
        expect(await store.countPrefix('scan/a?')).toBe(1)
        expect(await store.countPrefix('nothing-here/')).toBe(0)
      })

      it('pages with a cursor until it is null', async () => {
        // On Redis, SCAN visits 2 keys a step; any store pages by `limit`.
        const small = onRedis ? await storeOn(counting, { scanCount: 2 }) : store
        const seen = new Set<string>()
        let cursor: string | undefined
        for (let page = 0; page < 10_000; page++) {
          const result = await small.scanPrefix('scan/', { limit: 2, ...(cursor ? { cursor } : {}) })
          for (const id of result.ids) seen.add(id)
          if (result.cursor === null) break
          cursor = result.cursor
        }
        expect([...seen].sort()).toEqual(ids.filter((id) => id.startsWith('scan/')).sort())
      })

      itRedis(
        'takes the key prefix literally too: a prefix with glob characters sees only its own keys',
        async () => {
          const globby = await storeOn(counting, { prefix: `${prefix}g*[?]\\:` })
          const plain = await storeOn(counting, { prefix: `${prefix}gg[a]\\:` })
          await globby.write([{ record: binaryRecord('one', 1, bytes(1)) }])
          await plain.write([{ record: binaryRecord('two', 1, bytes(2)) }])
          expect((await globby.scanPrefix('')).ids).toEqual(['one'])
          expect((await plain.scanPrefix('')).ids).toEqual(['two'])
          expect(await globby.countPrefix('')).toBe(1)
          expectRecord((await globby.read(['one'])).get('one'), binaryRecord('one', 1, bytes(1)))
        },
      )
    })

    describeConditionsAndHeads(() => store)

    describeRedisInternals(onRedis, () => ({ prefix, raw, planter, store: redisStore }))

    describe('errors', () => {
      it('throws BackendError, not a raw driver error, once the transport is closed', async () => {
        const closing = onRedis
          ? await storeOn(await makeTransport!())
          : await makeStore({ tombstoneRetentionMs: TOMBSTONE_RETENTION_MS })
        await closing.close()
        await expect(closing.read(['a'])).rejects.toBeInstanceOf(BackendError)
        await expect(closing.write([{ record: binaryRecord('a', 1, bytes(1)) }])).rejects.toBeInstanceOf(
          BackendError,
        )
        await expect(closing.ping()).rejects.toBeInstanceOf(BackendError)
      })
    })
  })
}
