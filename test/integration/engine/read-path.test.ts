import { CacheTtl, isCorrupt, SubmitOptions, SyncItem } from '@sync-engine/core'
import { expect, it } from 'vitest'
import {
  describeWithRedisAndMysql,
  eventually,
  isRecord,
  RecordingL2,
  useEngineHarness,
} from './support/engine-harness.ts'

/**
 * The read path on real tiers: L1 → write queue → L2 → L3, back-filling the upper tiers, and a
 * corrupt L2 value treated as a miss, counted and rewritten from L3. A "fresh" engine is a second
 * engine on the same prefix and table, so its L1 is empty and every read goes to the tiers.
 */

const encoder = new TextEncoder()
const bytesOf = (text: string) => [...encoder.encode(text)]

async function corruptReads(engine: { health(): Promise<{ l2: object }> }): Promise<number> {
  const l2 = (await engine.health()).l2 as { corruptReads?: unknown }
  if (typeof l2.corruptReads !== 'number') throw new Error('health().l2.corruptReads is not a number')
  return l2.corruptReads
}

describeWithRedisAndMysql('engine read path over Redis and SQL', () => {
  const h = useEngineHarness('read-path')

  it('an item only in SQL is read through by a fresh engine and back-filled into Redis and L1', async () => {
    const writer = await h.open()
    const receipt = await writer.submit(SyncItem.fromJson('rp-sql-only', { n: 1 }), SubmitOptions.durable())
    expect(await h.redis.exists(h.itemKey('rp-sql-only'))).toBe(0)

    const reader = await h.open()
    expect(await reader.status('rp-sql-only')).toEqual({
      kind: 'synced',
      version: receipt.version,
      l1: false,
      l2: false,
      l3: true,
    })
    const item = await reader.get('rp-sql-only')
    expect(item?.version).toBe(receipt.version)
    expect(item?.json()).toEqual({ n: 1 })

    const filled = await eventually('the L2 back-fill', () => h.l2Value('rp-sql-only'), isRecord)
    expect(filled).toMatchObject({ version: receipt.version, tombstone: false, contentType: 'json' })
    expect([...(filled.content ?? [])]).toEqual(bytesOf('{"n":1}'))
    expect(await reader.status('rp-sql-only')).toEqual({
      kind: 'synced',
      version: receipt.version,
      l1: true,
      l2: true,
      l3: true,
    })
  })

  it('an item only in Redis is read by a fresh engine from L2 and back-filled into L1 with its TTL', async () => {
    const writer = await h.open()
    const receipt = await writer.submit(
      SyncItem.fromJson('rp-redis-only', 'cached'),
      SubmitOptions.cache(CacheTtl.Hour),
    )
    expect(await h.sqlRow('rp-redis-only')).toBeUndefined()

    const reader = await h.open()
    expect(reader.l1Snapshot().entries.some((e) => e.id === 'rp-redis-only')).toBe(false)
    const item = await reader.get('rp-redis-only')
    expect(item?.version).toBe(receipt.version)
    expect(item?.text()).toBe('"cached"')

    const entry = reader.l1Snapshot().entries.find((e) => e.id === 'rp-redis-only')
    expect(entry?.version).toBe(receipt.version)
    // The back-fill keeps the item's remaining lifetime; it does not make it immortal in L1.
    expect(entry?.expiresAt).toBeGreaterThan(0)
    expect(entry?.expiresAt).toBeLessThanOrEqual(Date.now() + CacheTtl.Hour)
    expect(await reader.status('rp-redis-only')).toEqual({
      kind: 'synced',
      version: receipt.version,
      l1: true,
      l2: true,
      l3: false,
    })
  })

  it('getMany across tiers returns items in input order, with one L2 read for every L1 miss', async () => {
    const writer = await h.open()
    const inL2 = await writer.submit(SyncItem.fromJson('gm-l2', 'two'), SubmitOptions.cache(CacheTtl.Hour))
    const inL3 = await writer.submit(SyncItem.fromJson('gm-l3', 'three'), SubmitOptions.durable())
    const inBoth = await writer.submit(SyncItem.fromJson('gm-both', 'both'))

    let recorder: RecordingL2 | undefined
    const reader = await h.open(
      {},
      {
        wrapL2: (store) => {
          recorder = new RecordingL2(store)
          return recorder
        },
      },
    )
    const inL1 = await reader.submit(SyncItem.fromJson('gm-l1', 'one'))
    // L1 is write-around: the write is not in L1 until read; this read admits it.
    expect(reader.l1Snapshot().entries.some((e) => e.id === 'gm-l1')).toBe(false)
    expect((await reader.get('gm-l1'))?.version).toBe(inL1.version)
    expect(reader.l1Snapshot().entries.find((e) => e.id === 'gm-l1')?.version).toBe(inL1.version)
    const readsBefore = recorder?.reads.length ?? 0

    const ids = ['gm-missing', 'gm-l3', 'gm-l1', 'gm-l2', 'gm-both', 'gm-l3', 'gm-gone']
    const items = await reader.getMany(ids)
    expect(items.map((item) => item && [item.id, item.text(), item.version])).toEqual([
      undefined,
      ['gm-l3', '"three"', inL3.version],
      ['gm-l1', '"one"', inL1.version],
      ['gm-l2', '"two"', inL2.version],
      ['gm-both', '"both"', inBoth.version],
      ['gm-l3', '"three"', inL3.version],
      undefined,
    ])

    // One MGET for all the L1 misses, not one call per id (gm-l1 is served by L1).
    const reads = recorder?.reads.slice(readsBefore) ?? []
    expect(reads).toHaveLength(1)
    expect(new Set(reads[0])).toEqual(new Set(['gm-missing', 'gm-l3', 'gm-l2', 'gm-both', 'gm-gone']))

    // The L3-only item was back-filled into Redis; absent ids left nothing behind.
    const filled = await eventually('the L2 back-fill of gm-l3', () => h.l2Value('gm-l3'), isRecord)
    expect(filled.version).toBe(inL3.version)
    expect(await h.redis.exists(h.itemKey('gm-missing'), h.itemKey('gm-gone'))).toBe(0)
    expect(await reader.status('gm-l2')).toMatchObject({ kind: 'synced', l1: true, l2: true, l3: false })
  })

  it('garbage at the item key: get serves the L3 value, counts a corrupt read and rewrites the key', async () => {
    const writer = await h.open()
    const receipt = await writer.submit(SyncItem.fromJson('rp-garbage', { ok: true }))
    await h.redis.set(h.itemKey('rp-garbage'), Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02]))
    expect(isCorrupt(await h.l2Value('rp-garbage'))).toBe(true)

    const reader = await h.open()
    const before = await corruptReads(reader)
    const item = await reader.get('rp-garbage')
    expect(item?.version).toBe(receipt.version)
    expect(item?.json()).toEqual({ ok: true })
    expect(await corruptReads(reader)).toBe(before + 1)

    const repaired = await eventually('the L2 repair', () => h.l2Value('rp-garbage'), isRecord)
    expect(repaired).toMatchObject({ version: receipt.version, tombstone: false, contentType: 'json' })
    expect([...(repaired.content ?? [])]).toEqual(bytesOf('{"ok":true}'))
  })

  it('getMany over a garbage value and a key of the wrong Redis type: both served from L3 and repaired', async () => {
    const writer = await h.open()
    const [first, second] = await writer.submitMany([
      SyncItem.fromJson('rp-bad-bytes', 1),
      SyncItem.fromJson('rp-bad-type', 2),
    ])
    await h.redis.set(h.itemKey('rp-bad-bytes'), 'not an envelope')
    await h.redis.del(h.itemKey('rp-bad-type'))
    await h.redis.rpush(h.itemKey('rp-bad-type'), 'a', 'list')

    const reader = await h.open()
    const before = await corruptReads(reader)
    const items = await reader.getMany(['rp-bad-bytes', 'rp-bad-type'])
    expect(items.map((item) => item?.version)).toEqual([
      first?.ok && first.value.version,
      second?.ok && second.value.version,
    ])
    expect(items.map((item) => item?.json())).toEqual([1, 2])
    expect(await corruptReads(reader)).toBe(before + 2)

    for (const id of ['rp-bad-bytes', 'rp-bad-type']) {
      const repaired = await eventually(`the L2 repair of ${id}`, () => h.l2Value(id), isRecord)
      expect(repaired.tombstone).toBe(false)
    }
    expect(await h.redis.type(h.itemKey('rp-bad-type'))).toBe('string')
  })

  it('a corrupt value with no copy in SQL is a miss: undefined, counted, never thrown', async () => {
    const reader = await h.open()
    await h.redis.set(h.itemKey('rp-corrupt-orphan'), Buffer.from([0xff, 0x53, 0x45, 0x01, 0x00]))
    const before = await corruptReads(reader)
    expect(await reader.get('rp-corrupt-orphan')).toBeUndefined()
    expect(await corruptReads(reader)).toBe(before + 1)
  })
})
