import { CacheTtl, defaultPlatform, type Platform, SubmitOptions, SyncItem } from '@sync-engine/core'
import { expect, it } from 'vitest'
import { describeWithRedisAndMysql, isRecord, useEngineHarness } from './support/engine-harness.ts'

/**
 * A restart with the data still there: shut one engine down, start a new one on the same Redis
 * prefix and SQL table, and everything written before is readable, deletes stay deleted, and new
 * versions are above every version written before.
 */

describeWithRedisAndMysql('engine restart over Redis and SQL', () => {
  const h = useEngineHarness('restart')

  it('a new engine on the same prefix and table reads everything, and its versions keep increasing', async () => {
    // Batches flush only when asked (or at shutdown): no timer decides what is still queued.
    const first = await h.open({ batchFlushMs: 60_000 })
    const queuedAck = { ack: 'queued' } as const
    const byDefault = await first.submit(SyncItem.fromJson('rs-default', 'a'), queuedAck)
    const durable = await first.submit(SyncItem.fromJson('rs-durable', 'b'), {
      ...SubmitOptions.durable(),
      ...queuedAck,
    })
    const cached = await first.submit(SyncItem.fromJson('rs-cache', 'c'), {
      ...SubmitOptions.cache(CacheTtl.Hour),
      ...queuedAck,
    })
    await first.submit(SyncItem.fromJson('rs-deleted', 'x'), queuedAck)
    await first.flush()
    const deleted = await first.delete('rs-deleted', queuedAck)
    await first.flush()
    // Still queued at shutdown: shutdown must flush it to both tiers.
    const queued = await first.submit(SyncItem.fromJson('rs-queued', 'q'), { ack: 'queued' })
    expect(await first.status('rs-queued')).toMatchObject({ kind: 'pending' })

    await first.shutdown()
    expect(first.state).toBe('stopped')
    expect(await h.sqlRow('rs-queued')).toMatchObject({ version: queued.version, tombstone: false })
    const queuedInRedis = await h.l2Value('rs-queued')
    expect(isRecord(queuedInRedis) && queuedInRedis.version).toBe(queued.version)

    const second = await h.open()
    const items = await second.getMany(['rs-default', 'rs-durable', 'rs-cache', 'rs-deleted', 'rs-queued'])
    expect(items.map((item) => item && [item.text(), item.version])).toEqual([
      ['"a"', byDefault.version],
      ['"b"', durable.version],
      ['"c"', cached.version],
      undefined,
      ['"q"', queued.version],
    ])
    expect(await second.get('rs-deleted')).toBeUndefined()

    const highest = Math.max(
      byDefault.version,
      durable.version,
      cached.version,
      deleted.version,
      queued.version,
    )
    const rewrite = await second.submit(SyncItem.fromJson('rs-default', 'a2'))
    expect(rewrite.version).toBeGreaterThan(highest)
    expect(await h.sqlRow('rs-default')).toMatchObject({ version: rewrite.version, payload: '"a2"' })
    const inRedis = await h.l2Value('rs-default')
    expect(isRecord(inRedis) && inRedis.version).toBe(rewrite.version)
  })

  it('versions keep increasing across a restart even when the new engine’s wall clock is a day behind', async () => {
    const first = await h.open()
    const before = await first.submit(SyncItem.fromJson('rs-clock', 1))
    await first.shutdown()

    const behind: Platform = { ...defaultPlatform, now: () => Date.now() - 86_400_000 }
    const second = await h.open({}, { platform: behind })
    const after = await second.submit(SyncItem.fromJson('rs-clock', 2))
    expect(after.version).toBeGreaterThan(before.version)
    // The newer write won in both tiers (a lower version would have been kept out by the guards).
    expect(await h.sqlRow('rs-clock')).toMatchObject({ version: after.version, payload: '2' })
    const inRedis = await h.l2Value('rs-clock')
    expect(isRecord(inRedis) && inRedis.version).toBe(after.version)
    expect((await second.get('rs-clock'))?.json()).toBe(2)
  })
})
