import { CacheTtl, SubmitOptions, SyncItem } from '@sync-engine/core'
import { expect, it } from 'vitest'
import {
  describeWithRedisAndMysql,
  eventually,
  isRecord,
  RecordingL2,
  useEngineHarness,
} from './support/engine-harness.ts'

/**
 * Write routing through the engine on real tiers: each preset lands in exactly the tiers it names
 * (checked with raw Redis and SQL reads, not through the engine), and a TTL applies in L1 and L2.
 */

const decoder = new TextDecoder()

describeWithRedisAndMysql('engine write routing over Redis and SQL', () => {
  const h = useEngineHarness('routing')

  it('reports L2 as configured and reachable, with no corrupt reads yet', async () => {
    const engine = await h.open()
    const health = await engine.health()
    expect(health.l2).toMatchObject({ configured: true, ok: true, corruptReads: 0 })
    expect(health.l3).toMatchObject({ configured: true, ok: true })
  })

  it('default(): the write is in Redis and in SQL, without expiry, and status names every tier', async () => {
    const engine = await h.open()
    const receipt = await engine.submit(SyncItem.fromJson('route-default', { a: 1 }), SubmitOptions.default())
    expect(receipt.ack).toBe('stored')

    const cached = await h.l2Value('route-default')
    if (!isRecord(cached)) throw new Error(`expected an envelope in Redis, got ${String(cached)}`)
    expect(cached).toMatchObject({ version: receipt.version, tombstone: false, contentType: 'json' })
    expect(decoder.decode(cached.content ?? undefined)).toBe('{"a":1}')
    expect(await h.pttl('route-default')).toBe(-1)

    expect(await h.sqlRow('route-default')).toMatchObject({
      version: receipt.version,
      tombstone: false,
      contentType: 'json',
      payload: '{"a":1}',
    })
    // L1 is write-around: the write is in Redis and SQL but not in L1 until it is read.
    expect(await engine.status('route-default')).toEqual({
      kind: 'synced',
      version: receipt.version,
      l1: false,
      l2: true,
      l3: true,
    })
    expect((await engine.get('route-default'))?.version).toBe(receipt.version)
    expect(await engine.status('route-default')).toEqual({
      kind: 'synced',
      version: receipt.version,
      l1: true,
      l2: true,
      l3: true,
    })
  })

  it('durable() over an item in Redis drops the older Redis copy, so no reader gets a version below SQL', async () => {
    const writer = await h.open()
    await writer.submit(SyncItem.fromJson('route-durable-over', 'v1'))
    expect(isRecord(await h.l2Value('route-durable-over'))).toBe(true)
    const v2 = await writer.submit(SyncItem.fromJson('route-durable-over', 'v2'), SubmitOptions.durable())
    // Not left at v1 in Redis: gone (a durable write does not populate L2).
    expect(await h.l2Value('route-durable-over')).toBeUndefined()
    const reader = await h.open()
    const read = await reader.get('route-durable-over')
    expect(read?.text()).toBe('"v2"')
    expect(read?.version).toBe(v2.version)
  })

  it('no options route like default(): Redis and SQL', async () => {
    const engine = await h.open()
    const receipt = await engine.submit(SyncItem.fromBinary('route-none', Uint8Array.of(0, 1, 2, 255)))
    const cached = await h.l2Value('route-none')
    expect(isRecord(cached) && cached.version).toBe(receipt.version)
    expect(isRecord(cached) && [...(cached.content ?? [])]).toEqual([0, 1, 2, 255])
    const row = await h.sqlRow('route-none')
    expect(row).toMatchObject({ version: receipt.version, contentType: 'binary' })
    expect([...(row?.blob ?? [])]).toEqual([0, 1, 2, 255])
  })

  it('cache(ttl): in Redis with a PTTL of at most ttl, in L1 with an expiry, and not in SQL', async () => {
    const ttl = CacheTtl.Minute
    const engine = await h.open()
    const receipt = await engine.submit(SyncItem.fromJson('route-cache', 'cached'), SubmitOptions.cache(ttl))

    const cached = await h.l2Value('route-cache')
    expect(isRecord(cached) && cached.version).toBe(receipt.version)
    const pttl = await h.pttl('route-cache')
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(ttl)

    expect(await h.sqlRow('route-cache')).toBeUndefined()

    // L1 is write-around: nothing of the write is in L1 until it is read.
    expect(engine.l1Snapshot().entries.some((e) => e.id === 'route-cache')).toBe(false)
    expect(await engine.status('route-cache')).toEqual({
      kind: 'synced',
      version: receipt.version,
      l1: false,
      l2: true,
      l3: false,
    })
    expect((await engine.get('route-cache'))?.version).toBe(receipt.version)

    // The read back-fills L1 and L1 honours the same TTL: the entry expires (0 would mean "never").
    const entry = engine.l1Snapshot().entries.find((e) => e.id === 'route-cache')
    expect(entry?.version).toBe(receipt.version)
    expect(entry?.expiresAt).toBeGreaterThan(0)
    expect(entry?.expiresAt).toBeLessThanOrEqual(Date.now() + ttl)

    expect(await engine.status('route-cache')).toEqual({
      kind: 'synced',
      version: receipt.version,
      l1: true,
      l2: true,
      l3: false,
    })
  })

  it('durable(): in SQL and not in Redis', async () => {
    const engine = await h.open()
    const receipt = await engine.submit(SyncItem.fromJson('route-durable', [1, 2]), SubmitOptions.durable())

    expect(await h.sqlRow('route-durable')).toMatchObject({
      version: receipt.version,
      tombstone: false,
      payload: '[1,2]',
    })
    expect(await h.redis.exists(h.itemKey('route-durable'))).toBe(0)
    // L1 is write-around: not in L1 until read; the read (from SQL) admits it.
    expect(await engine.status('route-durable')).toEqual({
      kind: 'synced',
      version: receipt.version,
      l1: false,
      l2: false,
      l3: true,
    })
    expect((await engine.get('route-durable'))?.version).toBe(receipt.version)
    // The read from SQL also back-fills Redis, in the background: l2 is not asserted here
    // (the read-path tests cover the back-fill).
    expect(await engine.status('route-durable')).toMatchObject({
      kind: 'synced',
      version: receipt.version,
      l1: true,
      l3: true,
    })
  })

  it('a write SQL refuses never reaches Redis (L3 first, then L2), and its batch-mate lands in both', async () => {
    const engine = await h.open()
    // MariaDB's JSON_VALID refuses nesting deeper than 31: the row is refused for good. The engine
    // refuses such JSON at submit (checkPortableJson); an item restored as is gets past that, as
    // data from elsewhere might.
    const deep = new TextEncoder().encode(`${'['.repeat(40)}"core"${']'.repeat(40)}`)
    const restored = SyncItem.restore({
      id: 'route-refused',
      content: deep,
      contentType: 'json',
      mime: 'application/json',
      hash: '',
      state: 'default',
      version: 0,
      updatedAt: 0,
    })
    const [accepted, refused] = await engine.submitMany([SyncItem.fromJson('route-mate', 'fine'), restored])
    expect(accepted?.ok).toBe(true)
    expect(refused?.ok).toBe(false)

    expect(await h.sqlRow('route-refused')).toBeUndefined()
    expect(await h.redis.exists(h.itemKey('route-refused'))).toBe(0)
    expect(await engine.get('route-refused')).toBeUndefined()
    expect(await h.sqlRow('route-mate')).toMatchObject({ payload: '"fine"' })
    expect(isRecord(await h.l2Value('route-mate'))).toBe(true)
  })

  it('cache(1500 ms): the item disappears from engine.get (L1) and from Redis once expired', async () => {
    let recorder: RecordingL2 | undefined
    const engine = await h.open(
      {},
      {
        wrapL2: (store) => {
          recorder = new RecordingL2(store)
          return recorder
        },
      },
    )
    const receipt = await engine.submit(SyncItem.fromJson('route-ttl', 'short-lived'), {
      ...SubmitOptions.cache(1500), // margin: the flush must reach Redis before the TTL ends
      ack: 'queued',
    })
    // L1 is write-around: the queued write is not in L1 until it is read.
    expect(engine.l1Snapshot().entries.some((e) => e.id === 'route-ttl')).toBe(false)
    // The read is served from the write queue and admits the write into L1: with an expiry, not for ever.
    const read = await engine.get('route-ttl')
    expect(read?.version).toBe(receipt.version)
    expect(read?.text()).toBe('"short-lived"')
    const entry = engine.l1Snapshot().entries.find((e) => e.id === 'route-ttl')
    expect(entry?.version).toBe(receipt.version)
    expect(entry?.expiresAt).toBeGreaterThan(0)

    await engine.flush()
    // The flush asked Redis for what is left of the TTL, and the same absolute expiry L1 has.
    const sent = recorder?.writes.find((w) => w.record.id === 'route-ttl')
    expect(sent?.record.version).toBe(receipt.version)
    expect(sent?.ttlMs).toBeGreaterThan(0)
    expect(sent?.ttlMs).toBeLessThanOrEqual(1500)
    expect(sent?.record.expiresAt).toBe(entry?.expiresAt)
    expect(await h.sqlRow('route-ttl')).toBeUndefined()

    await eventually(
      'engine.get once the TTL passed',
      () => engine.get('route-ttl'),
      (item) => item === undefined,
    )
    await eventually(
      'the Redis key once the TTL passed',
      () => h.redis.exists(h.itemKey('route-ttl')),
      (count) => count === 0,
    )
    expect(await engine.status('route-ttl')).toEqual({ kind: 'missing' })
    const fresh = await h.open()
    expect(await fresh.get('route-ttl')).toBeUndefined()
  })
})
