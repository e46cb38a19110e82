import { type L2Store, type L3Store, SyncItem } from '@sync-engine/core'
import { expect, it } from 'vitest'
import { type Interception, intercept } from '../../support/intercepted-store.ts'
import { describeWithRedisAndMysql, useEngineHarness } from './support/engine-harness.ts'

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`gave up waiting for: ${what}`)
}

describeWithRedisAndMysql('engine resilience over Redis and SQL', () => {
  const t = useEngineHarness('resilience')

  it('an L2 write lost after the L3 commit never lets L2 serve the older version; reconciliation drops it', async () => {
    let l2: Interception | undefined
    const engine = await t.open(
      {},
      {
        wrapL2: (store) => {
          const wrapped = intercept<L2Store>(store, 'l2')
          l2 = wrapped.interception
          return wrapped.store
        },
        breakers: { l2: { failureThreshold: 100, openMs: 20, maxOpenMs: 20 } },
      },
    )
    const first = await engine.submit(SyncItem.fromJson('rec-1', { v: 1 }), { ack: 'stored' })
    expect((await t.l2Value('rec-1')) as { version: number }).toMatchObject({ version: first.version })
    l2!.failing.add('write')
    l2!.failing.add('delete')
    const second = await engine.submit(SyncItem.fromJson('rec-1', { v: 2 }), { ack: 'stored' })
    // Stored in L3; Redis still holds version 1, but the engine does not read it for this id.
    expect((await t.l2Value('rec-1')) as { version: number }).toMatchObject({ version: first.version })
    expect((await engine.get('rec-1'))?.version).toBe(second.version)
    const degraded = await engine.health()
    expect(degraded.l2Reconcile.pending).toBe(1)
    expect(degraded.degraded).toContain('l2')

    l2!.failing.clear()
    await until(async () => (await engine.health()).l2Reconcile.pending === 0, 'L2 reconciled')
    const inRedis = (await t.l2Value('rec-1')) as { version: number } | undefined
    expect(inRedis === undefined || inRedis.version >= second.version).toBe(true)
    expect((await engine.health()).degraded).toEqual([])
  })

  it('a cache-only write that L2 misses fails (typed) and is retried, never acknowledged as stored', async () => {
    let l2: Interception | undefined
    const engine = await t.open(
      {},
      {
        wrapL2: (store) => {
          const wrapped = intercept<L2Store>(store, 'l2')
          l2 = wrapped.interception
          return wrapped.store
        },
      },
    )
    l2!.failing.add('write')
    const error = await engine
      .submit(SyncItem.fromJson('cache-1', { v: 1 }), {
        redis: true,
        sql: false,
        redisTtl: 60_000,
        ack: 'stored',
      })
      .catch((e: unknown) => e)
    expect((error as { code?: string }).code).toBe('FLUSH_FAILED')
    l2!.failing.clear()
    await engine.flush()
    expect((await t.l2Value('cache-1')) as { version: number }).toMatchObject({ version: expect.any(Number) })
  })

  it('a trusted existence filter answers absent ids with no call to Redis or SQL; deletes leave it', async () => {
    const writer = await t.open({ l3SingleWriter: true })
    await writer.submitMany(
      Array.from({ length: 50 }, (_, n) => SyncItem.fromJson(`present-${n}`, { n })),
      { ack: 'stored' },
    )
    await writer.submit(SyncItem.fromJson('cached-only', { n: 1 }), { sql: false, ack: 'stored' })
    await writer.delete('present-0', { ack: 'stored' })
    await writer.shutdown()

    let l2: Interception | undefined
    let l3: Interception | undefined
    const engine = await t.open(
      { l3SingleWriter: true },
      {
        wrapL2: (store) => {
          const wrapped = intercept<L2Store>(store, 'l2')
          l2 = wrapped.interception
          return wrapped.store
        },
        wrapL3: (store) => {
          const wrapped = intercept<L3Store>(store, 'l3')
          l3 = wrapped.interception
          return wrapped.store
        },
      },
    )
    expect((await engine.health()).filter).toMatchObject({ enabled: true, trusted: true })
    const before = { l2: l2!.total(), l3: l3!.total() }
    for (let n = 0; n < 1_000; n++) expect(await engine.get(`absent-${n}`)).toBeUndefined()
    expect(await engine.getMany(['absent-x', 'absent-y'])).toEqual([undefined, undefined])
    expect({ l2: l2!.total(), l3: l3!.total() }).toEqual(before)
    // Present ids (in L3, or only in L2 as cache entries) are still found.
    expect((await engine.get('present-7'))?.json()).toEqual({ n: 7 })
    expect((await engine.get('cached-only'))?.json()).toEqual({ n: 1 })
    expect(await engine.get('present-0')).toBeUndefined()
    // A delete flushed by this engine removes the id; a later write adds it back.
    await engine.delete('present-8', { ack: 'stored' })
    expect(await engine.get('present-8')).toBeUndefined()
    await engine.submit(SyncItem.fromJson('present-8', { n: 88 }), { ack: 'stored' })
    expect((await engine.get('present-8'))?.json()).toEqual({ n: 88 })
    const filter = (await engine.health()).filter
    expect(filter.checks).toBeGreaterThanOrEqual(1_002)
  })
})
