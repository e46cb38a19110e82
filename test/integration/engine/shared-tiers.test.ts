import { SubmitOptions, SyncItem } from '@sync-engine/core'
import { expect, it } from 'vitest'
import { FakePlatform } from '../../support/fake-platform.ts'
import { describeWithRedisAndMysql, isRecord, useEngineHarness } from './support/engine-harness.ts'

/**
 * Redis and MariaDB as a new user deploys them — several engines on the same tiers — and the
 * defects found by trying it: get and getMany disagreeing, a trusted filter that forgot
 * cache-only writes, a TTL lost through L3, instances that never saw each other's writes, and a
 * lagging clock that silently lost an acknowledged write. Fake clocks move only when a test sets
 * them (never through their timers: the breakers' deadlines run on them, and real I/O is slower
 * than a fake timer).
 */

describeWithRedisAndMysql('engines sharing Redis and SQL', () => {
  const h = useEngineHarness('shared-tiers')

  it('get and getMany agree on a queued cache-only write whose TTL ran out', async () => {
    const platform = new FakePlatform(Date.now())
    const engine = await h.open({ batchFlushMs: 60_000 }, { platform })
    await engine.submit(SyncItem.fromJson('brief', 'x'), { ...SubmitOptions.cache(30), ack: 'queued' })
    platform.setTime(platform.now() + 80)
    expect(await engine.get('brief')).toBeUndefined()
    expect(await engine.getMany(['brief'])).toEqual([undefined])
  })

  it('a trusted filter answers for cache-only writes made after the start (no false negative)', async () => {
    const engine = await h.open({ l3SingleWriter: true })
    expect((await engine.health()).filter.trusted).toBe(true)
    await engine.submit(SyncItem.fromJson('cached', { c: 1 }), {
      ...SubmitOptions.cache(60_000),
      ack: 'stored',
    })
    expect((await engine.status('cached')).kind).toBe('synced')
    expect((await engine.get('cached'))?.json()).toEqual({ c: 1 })
    expect((await engine.getMany(['cached']))[0]?.json()).toEqual({ c: 1 })
  })

  it('a TTL is the item’s lifetime in L3 too: never served or back-filled after it, and kept in back-fills before it', async () => {
    const platform = new FakePlatform(Date.now())
    const engine = await h.open({ l1MaxBytes: 1 }, { platform })
    await engine.submit(SyncItem.fromJson('ttl', 1), { redisTtl: 60_000, ack: 'stored' })
    expect((await h.sqlRow('ttl'))?.tombstone).toBe(false)
    // Evicted from Redis before its time: read from L3, and written back with what is left of its TTL.
    await h.redis.del(h.itemKey('ttl'))
    platform.setTime(platform.now() + 20_000)
    expect((await engine.get('ttl'))?.json()).toBe(1)
    await expect.poll(() => h.pttl('ttl')).toBeGreaterThan(0)
    expect(await h.pttl('ttl')).toBeLessThanOrEqual(40_000)
    // Past its TTL (Redis' copy gone with it): L3 must not serve it or write it back.
    await h.redis.del(h.itemKey('ttl'))
    platform.setTime(platform.now() + 40_000)
    expect(await engine.get('ttl')).toBeUndefined()
    expect(await engine.getMany(['ttl'])).toEqual([undefined])
    expect(await engine.contains('ttl')).toBe(false)
    expect(await h.pttl('ttl')).toBe(-2)
  })

  it('an engine sees another engine’s newer write once its L1 staleness bound (5 s by default) has passed', async () => {
    const platformA = new FakePlatform(Date.now())
    const platformB = new FakePlatform(Date.now())
    const a = await h.open({}, { platform: platformA })
    const b = await h.open({}, { platform: platformB })
    expect((await b.health()).l1).toMatchObject({ ttlMs: 5_000, staleness: 'bounded' })
    await a.submit(SyncItem.fromJson('shared', 'v1'), { ack: 'stored' })
    expect((await b.get('shared'))?.json()).toBe('v1')
    platformA.setTime(platformA.now() + 1)
    await a.submit(SyncItem.fromJson('shared', 'v2'), { ack: 'stored' })
    platformB.setTime(platformB.now() + 5_000)
    expect((await b.get('shared'))?.json()).toBe('v2')
  })

  it('a write through an engine whose clock lags is never a silent success over a newer acknowledged write', async () => {
    const a = await h.open()
    // B's wall clock is an hour behind A's.
    const lagging = new FakePlatform(Date.now() - 3_600_000)
    const b = await h.open({}, { platform: lagging })
    const acked = await a.submit(SyncItem.fromJson('contested', 'from A'), { ack: 'stored' })
    const failure = await b
      .submit(SyncItem.fromJson('contested', 'from B'), { ack: 'stored' })
      .catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: 'STALE_VERSION', currentVersion: acked.version })
    expect((await b.health()).writes.superseded).toBe(1)
    const stored = await h.l2Value('contested')
    expect(isRecord(stored) && stored.version).toBe(acked.version)
    expect((await h.sqlRow('contested'))?.version).toBe(acked.version)
    // B's clock has moved past the version that won: its next write is ordered after it.
    const next = await b.submit(SyncItem.fromJson('contested', 'B, later'), { ack: 'stored' })
    expect(next.version).toBeGreaterThan(acked.version)
    expect((await a.getMany(['contested']))[0]?.version).toBeGreaterThanOrEqual(acked.version)
    expect((await h.sqlRow('contested'))?.version).toBe(next.version)
  })
})
