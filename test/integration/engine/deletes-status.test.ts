import { CacheTtl, SubmitOptions, SyncItem } from '@sync-engine/core'
import { expect, it } from 'vitest'
import { describeWithRedisAndMysql, isRecord, useEngineHarness } from './support/engine-harness.ts'

/**
 * Deletes are tombstones in both tiers, and a delayed older write cannot bring the item back;
 * `status` moves from pending to synced (naming the tiers) and to missing.
 */

describeWithRedisAndMysql('engine deletes and status over Redis and SQL', () => {
  const h = useEngineHarness('deletes')

  it('a delete writes a tombstone to Redis and to SQL at the delete version', async () => {
    const engine = await h.open()
    const put = await engine.submit(SyncItem.fromJson('del-1', { v: 1 }))
    expect(isRecord(await h.l2Value('del-1'))).toBe(true)

    const deleted = await engine.delete('del-1')
    expect(deleted.version).toBeGreaterThan(put.version)
    expect(await h.l2Value('del-1')).toMatchObject({
      tombstone: true,
      version: deleted.version,
      content: null,
    })
    expect(await h.sqlRow('del-1')).toMatchObject({ tombstone: true, version: deleted.version })
    expect(await engine.get('del-1')).toBeUndefined()

    const fresh = await h.open()
    expect(await fresh.get('del-1')).toBeUndefined()
    expect(await fresh.getMany(['del-1'])).toEqual([undefined])
    expect(await fresh.status('del-1')).toEqual({ kind: 'missing' })
    expect(await fresh.contains('del-1')).toBe(false)
  })

  it('an older caller-versioned write after the delete does not resurrect the item', async () => {
    const engine = await h.open()
    await engine.submit(SyncItem.fromJson('del-old', 'alive'))
    const deleted = await engine.delete('del-old')

    // Just older than the tombstone, from another engine that never saw the delete.
    const late = await h.open()
    // Its `stored` ack does not claim a write that did not happen: the tombstone's version stays.
    await expect(
      late.submit(SyncItem.fromJson('del-old', 'resurrected?', { version: deleted.version - 1 })),
    ).rejects.toMatchObject({ code: 'STALE_VERSION', currentVersion: deleted.version })
    expect(await late.get('del-old')).toBeUndefined()

    expect(await h.l2Value('del-old')).toMatchObject({ tombstone: true, version: deleted.version })
    expect(await h.sqlRow('del-old')).toMatchObject({ tombstone: true, version: deleted.version })
    const fresh = await h.open()
    expect(await fresh.get('del-old')).toBeUndefined()
    expect(await fresh.status('del-old')).toEqual({ kind: 'missing' })
  })

  it('a delete cancels the queued write of its id: only the tombstone reaches the tiers', async () => {
    const engine = await h.open({ batchFlushMs: 60_000 })
    await engine.submit(SyncItem.fromJson('del-queued', 'never stored'), { ack: 'queued' })
    const deleted = await engine.delete('del-queued', { ack: 'queued' })
    await engine.flush()
    expect(await h.l2Value('del-queued')).toMatchObject({ tombstone: true, version: deleted.version })
    expect(await h.sqlRow('del-queued')).toMatchObject({ tombstone: true, version: deleted.version })
    expect(await engine.get('del-queued')).toBeUndefined()
  })

  it('deleteMany writes a tombstone per id in both tiers', async () => {
    const engine = await h.open()
    await engine.submitMany([SyncItem.fromJson('dm-1', 1), SyncItem.fromJson('dm-2', 2)])
    const results = await engine.deleteMany(['dm-1', 'dm-2'])
    for (const result of results) {
      if (!result.ok) throw result.error
      expect(await h.l2Value(result.id)).toMatchObject({ tombstone: true, version: result.value.version })
      expect(await h.sqlRow(result.id)).toMatchObject({ tombstone: true, version: result.value.version })
    }
    const fresh = await h.open()
    expect(await fresh.getMany(['dm-1', 'dm-2'])).toEqual([undefined, undefined])
  })

  it('status: missing → pending → synced{l1,l2,l3}, and after a delete pending → missing', async () => {
    const engine = await h.open({ batchFlushMs: 60_000 })
    expect(await engine.status('st-1')).toEqual({ kind: 'missing' })

    const put = await engine.submit(SyncItem.fromJson('st-1', 1), { ack: 'queued' })
    expect(await engine.status('st-1')).toEqual({ kind: 'pending', version: put.version, deleted: false })
    await engine.flush()
    // L1 is write-around: synced to L2 and L3, in L1 only once read.
    expect(await engine.status('st-1')).toEqual({
      kind: 'synced',
      version: put.version,
      l1: false,
      l2: true,
      l3: true,
    })
    expect((await engine.get('st-1'))?.version).toBe(put.version)
    expect(await engine.status('st-1')).toEqual({
      kind: 'synced',
      version: put.version,
      l1: true,
      l2: true,
      l3: true,
    })

    // Another engine has it in neither its L1 nor its queue: L2 and L3 only.
    const other = await h.open()
    expect(await other.status('st-1')).toEqual({
      kind: 'synced',
      version: put.version,
      l1: false,
      l2: true,
      l3: true,
    })

    const deleted = await engine.delete('st-1', { ack: 'queued' })
    expect(await engine.status('st-1')).toEqual({ kind: 'pending', version: deleted.version, deleted: true })
    await engine.flush()
    expect(await engine.status('st-1')).toEqual({ kind: 'missing' })
    expect(await other.status('st-1')).toEqual({ kind: 'missing' })
  })

  it('status names only the tiers a route wrote to: cache() is l2 without l3, durable() l3 without l2', async () => {
    const engine = await h.open()
    const cached = await engine.submit(SyncItem.fromJson('st-cache', 'c'), SubmitOptions.cache(CacheTtl.Hour))
    const durable = await engine.submit(SyncItem.fromJson('st-durable', 'd'), SubmitOptions.durable())
    const other = await h.open()
    expect(await other.status('st-cache')).toEqual({
      kind: 'synced',
      version: cached.version,
      l1: false,
      l2: true,
      l3: false,
    })
    expect(await other.status('st-durable')).toEqual({
      kind: 'synced',
      version: durable.version,
      l1: false,
      l2: false,
      l3: true,
    })
  })
})
