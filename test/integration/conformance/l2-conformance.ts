import { randomBytes, randomUUID } from 'node:crypto'
import {
  BackendError,
  type ContentType,
  type CorruptValue,
  encodeEnvelope,
  escapeGlob,
  InvalidArgumentError,
  isCorrupt,
  isReplyError,
  type L2Value,
  type RedisReply,
  RedisReplyError,
  RedisStore,
  type RedisStoreOptions,
  type RedisTransport,
  type StoredRecord,
  SyncItem,
  sha256Hex,
} from '@sync-engine/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CountingTransport } from './l2-counting-transport.ts'

export interface L2ConformanceOptions {
  /** Largest value the backend takes in one request (Upstash: 10 MB); bigger cases are skipped. */
  maxValueBytes?: number
}

const MIB = 1024 * 1024
const TOMBSTONE_RETENTION_MS = 60_000

/**
 * The L2 driver conformance suite: the same cases for every Redis transport (ioredis today,
 * Upstash next), each run against its real backend. Each run uses its own key prefix and removes
 * only that prefix afterwards (SCAN + UNLINK, never FLUSHDB).
 */
export function runL2Conformance(
  name: string,
  makeTransport: () => Promise<RedisTransport>,
  options: L2ConformanceOptions = {},
): void {
  describe(`L2 conformance: ${name}`, () => {
    const prefix = `test:${randomUUID().slice(0, 8)}:`
    const opened: RedisTransport[] = []
    let raw: RedisTransport
    let counting: CountingTransport
    let store: RedisStore

    const open = async () => {
      const transport = await makeTransport()
      opened.push(transport)
      return transport
    }
    const storeOn = (transport: RedisTransport, extra: RedisStoreOptions = {}) =>
      RedisStore.open(transport, { prefix, tombstoneRetentionMs: TOMBSTONE_RETENTION_MS, ...extra })
    const rawGet = (key: string) => raw.send(['GET', key])
    const readOne = async (id: string) => (await store.read([id])).get(id)

    beforeAll(async () => {
      raw = await open()
      counting = new CountingTransport(await open())
      store = await storeOn(counting)
    })

    afterAll(async () => {
      if (raw) await deleteMatching(raw, `${escapeGlob(prefix)}*`)
      await Promise.allSettled(opened.map((transport) => transport.close()))
    })

    describe('basics', () => {
      it('reports its driver and detected capabilities, and answers ping', async () => {
        expect(store.driver).toBe(raw.driver)
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
        counting.reset()
        const good = binaryRecord('valid-1', 1, bytes(1))
        await expect(
          store.write([{ record: good }, { record: { ...good, id: 'valid-2', version: 0 } }]),
        ).rejects.toBeInstanceOf(InvalidArgumentError)
        await expect(store.write([{ record: good, ttlMs: -5 }])).rejects.toBeInstanceOf(InvalidArgumentError)
        await expect(store.write([{ record: { ...good, hash: 'nope' } }])).rejects.toBeInstanceOf(
          InvalidArgumentError,
        )
        expect(counting.calls).toBe(0)
        expect(await readOne('valid-1')).toBeUndefined()
      })
    })

    describe('byte fidelity', () => {
      it('keeps unicode JSON, {} and [] byte for byte', async () => {
        const records = [
          jsonRecord('json-unicode', 1, { name: 'Zoë 🚀', ключ: '值', nested: [1, 2.5, null, true] }),
          jsonRecord('json-empty-object', 1, {}),
          jsonRecord('json-empty-array', 1, []),
        ]
        await store.write(records.map((record) => ({ record })))
        const found = await store.read(records.map((r) => r.id))
        for (const record of records) expectRecord(found.get(record.id), record)
        expect(new TextDecoder().decode(recordOf(found.get('json-empty-object')).content!)).toBe('{}')
        expect(new TextDecoder().decode(recordOf(found.get('json-empty-array')).content!)).toBe('[]')
      })

      it('keeps binary with zero bytes and 0xFF, every byte value, and empty content', async () => {
        const every = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 256)
        const records = [
          binaryRecord('bin-edges', 1, bytes(0, 0, 0xff, 0, 0xff, 0xfe, 0)),
          binaryRecord('bin-every', 1, every),
          binaryRecord('bin-empty', 1, new Uint8Array(0)),
          // Looks like an envelope's magic: content is never mistaken for a header.
          binaryRecord('bin-magic', 1, encodeEnvelope(binaryRecord('inner', 9, bytes(1)))),
        ]
        await store.write(records.map((record) => ({ record })))
        const found = await store.read(records.map((r) => r.id))
        for (const record of records) expectRecord(found.get(record.id), record)
      })

      it.skipIf((options.maxValueBytes ?? Number.POSITIVE_INFINITY) < 16 * MIB + 1024)(
        'round-trips a 16 MiB binary exactly',
        async () => {
          const big = new Uint8Array(16 * MIB)
          big.set(randomBytes(64 * 1024), 0)
          for (let at = 64 * 1024; at < big.length; at += 64 * 1024) big.copyWithin(at, 0, 64 * 1024)
          big[big.length - 1] = 0xff
          big[0] = 0
          const record = binaryRecord('bin-16mib', 1, big)
          await store.write([{ record }])
          const read = recordOf(await readOne('bin-16mib'))
          expect(read.content!.byteLength).toBe(16 * MIB)
          expect(Buffer.from(read.content!).equals(Buffer.from(big))).toBe(true)
          expect(sha256Hex(read.content!)).toBe(record.hash)
        },
      )
    })

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

      it('gives every key of one batch the verdict it gets alone: newer, older, same, repair, corrupt, TTL', async () => {
        const key = (id: string) => store.keys.itemKey(id)
        await store.write([
          { record: binaryRecord('mix-newer', 5, bytes(5)) },
          { record: binaryRecord('mix-older', 5, bytes(5)) },
          { record: binaryRecord('mix-same', 5, bytes(5)) },
          { record: binaryRecord('mix-repair', 5, bytes(5)) },
        ])
        await raw.send(['RPUSH', key('mix-list'), 'x'])
        const truncated = encodeEnvelope(binaryRecord('mix-cut', 9, bytes(1, 2, 3)))
        await raw.send(['SET', key('mix-cut'), truncated.subarray(0, truncated.length - 1)])
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
      })

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
        const transports = await Promise.all(Array.from({ length: 8 }, () => open()))
        const stores = await Promise.all(transports.map((transport) => storeOn(transport)))
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
        await store.write([{ record: stored }])
        // Same length, same version, one byte flipped: only the hash can tell (getVerified).
        const damaged = encodeEnvelope(stored)
        damaged[damaged.length - 1] = 9
        await raw.send(['SET', store.keys.itemKey('repair'), damaged])
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

      it('gives a tombstone the retention TTL, whatever TTL the entry asks for', async () => {
        await store.write([{ record: tombstone('tomb-ttl', 1), ttlMs: 5 }])
        const pttl = await raw.send(['PTTL', store.keys.itemKey('tomb-ttl')])
        expect(typeof pttl).toBe('number')
        expect(pttl as number).toBeGreaterThan(5)
        expect(pttl as number).toBeLessThanOrEqual(TOMBSTONE_RETENTION_MS)
      })
    })

    describe('TTL', () => {
      it('expires an entry written with ttlMs 200', async () => {
        await store.write([{ record: binaryRecord('short-lived', 1, bytes(1)), ttlMs: 200 }])
        const pttl = (await raw.send(['PTTL', store.keys.itemKey('short-lived')])) as number
        expect(pttl).toBeGreaterThan(0)
        expect(pttl).toBeLessThanOrEqual(200)
        // Poll (bounded) rather than assert timing.
        let value: L2Value | undefined = recordOf(await readOne('short-lived'))
        for (let i = 0; i < 200 && value !== undefined; i++) {
          await sleep(25)
          value = await readOne('short-lived')
        }
        expect(value).toBeUndefined()
      })

      it('sets, replaces and clears the TTL with each newer write, in the same command', async () => {
        const key = store.keys.itemKey('ttl-change')
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
        const fresh = await storeOn(counting)
        counting.reset()
        expect(await fresh.write(records.map((record) => ({ record })))).toEqual({ applied: 2500, stale: [] })
        expect(counting.calls).toBe(1)
        expect(counting.names.filter((n) => n === 'EVAL')).toHaveLength(1)

        counting.reset()
        const found = await store.read(records.map((r) => r.id))
        expect(counting.calls).toBe(1)
        expect(found.size).toBe(2500)
        for (const record of records) expectRecord(found.get(record.id), record)
      })

      it('reads one id with one command in one round trip', async () => {
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
        counting.reset()
        const found = await store.read(['many-1', 'many-2', 'many-3', 'many-1'])
        expect(counting.calls).toBe(1)
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
        const small = await storeOn(counting, { scanCount: 2 })
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

      it('takes the key prefix literally too: a prefix with glob characters sees only its own keys', async () => {
        const globby = await storeOn(counting, { prefix: `${prefix}g*[?]\\:` })
        const plain = await storeOn(counting, { prefix: `${prefix}gg[a]\\:` })
        await globby.write([{ record: binaryRecord('one', 1, bytes(1)) }])
        await plain.write([{ record: binaryRecord('two', 1, bytes(2)) }])
        expect((await globby.scanPrefix('')).ids).toEqual(['one'])
        expect((await plain.scanPrefix('')).ids).toEqual(['two'])
        expect(await globby.countPrefix('')).toBe(1)
        expectRecord((await globby.read(['one'])).get('one'), binaryRecord('one', 1, bytes(1)))
      })
    })

    describe('corruption', () => {
      const good = binaryRecord('corrupt/ok', 1, bytes(42))
      const valid = encodeEnvelope(jsonRecord('x', 3, { some: 'content' }))

      beforeAll(async () => {
        await store.write([{ record: good }])
        const key = (id: string) => store.keys.itemKey(id)
        await raw.pipeline([
          ['SET', key('corrupt/garbage'), Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff])],
          ['SET', key('corrupt/text'), '{"looks":"like json"}'],
          ['SET', key('corrupt/truncated'), valid.subarray(0, valid.length - 3)],
          ['SET', key('corrupt/header'), valid.subarray(0, 16)],
          ['SET', key('corrupt/padded'), Uint8Array.from([...valid, 0])],
          ['RPUSH', key('corrupt/list'), 'a', 'b'],
          ['HSET', key('corrupt/hash'), 'f', 'v'],
        ])
      })

      const bad = [
        'corrupt/garbage',
        'corrupt/text',
        'corrupt/truncated',
        'corrupt/header',
        'corrupt/padded',
        'corrupt/list',
        'corrupt/hash',
      ]

      it('returns a corrupt marker for each bad value, leaving the other ids of the read intact', async () => {
        const found = await store.read([...bad, 'corrupt/ok', 'corrupt/missing'])
        for (const id of bad) {
          const value = found.get(id)
          expect(isCorrupt(value), id).toBe(true)
          expect((value as CorruptValue).id).toBe(id)
          expect((value as CorruptValue).reason).toEqual(expect.any(String))
        }
        expectRecord(found.get('corrupt/ok'), good)
        expect(found.has('corrupt/missing')).toBe(false)
      })

      it('reports a wrong Redis type as corrupt on the single-id path too', async () => {
        for (const id of ['corrupt/list', 'corrupt/hash', 'corrupt/garbage']) {
          expect(isCorrupt(await readOne(id)), id).toBe(true)
        }
        const pair = await store.read(['corrupt/list', 'corrupt/ok'])
        expect(isCorrupt(pair.get('corrupt/list'))).toBe(true)
        expectRecord(pair.get('corrupt/ok'), good)
      })

      it('repairs a corrupt key by writing a record over it', async () => {
        const repairs = ['corrupt/list', 'corrupt/truncated'].map((id) => binaryRecord(id, 1, bytes(7)))
        expect(await store.write(repairs.map((record) => ({ record })))).toEqual({ applied: 2, stale: [] })
        const found = await store.read(repairs.map((r) => r.id))
        for (const record of repairs) expectRecord(found.get(record.id), record)
      })
    })

    describe('key namespaces', () => {
      it('never lets an item id reach an internal key', async () => {
        const internal = store.keys.internalKey('internal')
        await raw.send(['SET', internal, 'internal state'])
        const ids = ['x:internal', 'i:x:internal', '../x:internal', 'j:x']
        await store.write(ids.map((id) => ({ record: binaryRecord(id, 1, bytes(9)) })))
        expect(text(await rawGet(internal))).toBe('internal state')
        const found = await store.read(ids)
        expect(found.size).toBe(ids.length)
        expect((await store.scanPrefix('')).ids).not.toContain('internal')
        expect(await store.delete(['x:internal'])).toBe(1)
        expect(text(await rawGet(internal))).toBe('internal state')
      })
    })

    describe('transport contract', () => {
      const k = (name: string) => `${prefix}contract:${name}`

      it('sends binary arguments and returns bulk replies as bytes', async () => {
        const value = Uint8Array.of(0, 0xff, 0x0d, 0x0a, 0x80, 0)
        await raw.send(['SET', k('bin'), value])
        const reply = await raw.send(['GET', k('bin')])
        expect(reply).toBeInstanceOf(Uint8Array)
        expect([...(reply as Uint8Array)]).toEqual([...value])
        expect(await raw.send(['GET', k('none')])).toBeNull()
        expect(await raw.send(['STRLEN', k('bin')])).toBe(6)
      })

      it('throws a RedisReplyError for an error reply, with its code', async () => {
        await raw.send(['RPUSH', k('list'), 'a'])
        const error = await raw.send(['GET', k('list')]).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(RedisReplyError)
        expect(error).toBeInstanceOf(BackendError)
        expect((error as RedisReplyError).replyCode).toBe('WRONGTYPE')
      })

      it('returns per-command errors in place in a pipeline', async () => {
        await raw.send(['RPUSH', k('list2'), 'a'])
        const replies = await raw.pipeline([
          ['SET', k('p1'), 'one'],
          ['GET', k('list2')],
          ['GET', k('p1')],
        ])
        expect(replies).toHaveLength(3)
        expect(isReplyError(replies[1], 'WRONGTYPE')).toBe(true)
        expect(text(replies[2] ?? null)).toBe('one')
      })

      it('runs a transaction all together', async () => {
        const replies = await raw.transaction([
          ['SET', k('t1'), 'a'],
          ['INCR', k('t2')],
          ['INCR', k('t2')],
        ])
        expect(replies.slice(1)).toEqual([1, 2])
        expect(text(await raw.send(['GET', k('t1')]))).toBe('a')
      })
    })

    describe('errors', () => {
      it('throws BackendError, not a raw driver error, once the transport is closed', async () => {
        const transport = await makeTransport()
        const closing = await storeOn(transport)
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

// ── Fixtures ───────────────────────────────────────────────────────────────────────────────────

function binaryRecord(
  id: string,
  version: number,
  content: Uint8Array,
  meta: { state?: string; mime?: string } = {},
): StoredRecord {
  return record(id, version, content, 'binary', meta.mime ?? 'application/octet-stream', meta.state)
}

function jsonRecord(id: string, version: number, value: unknown): StoredRecord {
  const item = SyncItem.fromJson(id, value)
  return record(id, version, item.content, 'json', item.mime, 'default')
}

function record(
  id: string,
  version: number,
  content: Uint8Array,
  contentType: ContentType,
  mime: string,
  state = 'default',
): StoredRecord {
  return {
    id,
    version,
    updatedAt: 1_700_000_000_000 + (version % 1000),
    hash: sha256Hex(content),
    state,
    contentType,
    mime,
    content,
    tombstone: false,
  }
}

function tombstone(id: string, version: number): StoredRecord {
  return {
    id,
    version,
    updatedAt: 1_700_000_000_000 + (version % 1000),
    hash: '',
    state: 'default',
    contentType: 'binary',
    mime: '',
    content: null,
    tombstone: true,
  }
}

function recordOf(value: L2Value | undefined): StoredRecord {
  if (value === undefined) throw new Error('expected a record, found nothing')
  if (isCorrupt(value)) throw new Error(`expected a record, found a corrupt value: ${value.reason}`)
  return value
}

function expectRecord(value: L2Value | undefined, expected: StoredRecord): void {
  const actual = recordOf(value)
  expect({ ...actual, content: null }).toEqual({ ...expected, content: null })
  expect(actual.content === null ? null : Buffer.from(actual.content).toString('hex')).toBe(
    expected.content === null ? null : Buffer.from(expected.content).toString('hex'),
  )
}

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values)
}

function text(reply: RedisReply): string {
  return reply instanceof Uint8Array ? new TextDecoder().decode(reply) : String(reply)
}

function shuffle<T>(values: T[]): T[] {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[values[i], values[j]] = [values[j]!, values[i]!]
  }
  return values
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Removes this run's keys only: SCAN with the run's own pattern, then UNLINK what it found. */
async function deleteMatching(transport: RedisTransport, pattern: string): Promise<void> {
  let cursor = '0'
  do {
    const reply = (await transport.send(['SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000])) as RedisReply[]
    cursor = text(reply[0] ?? null)
    const keys = (reply[1] as RedisReply[]).map((key) => key as Uint8Array)
    if (keys.length > 0) await transport.send(['UNLINK', ...keys])
  } while (cursor !== '0')
}
