import { SyncItem } from '@sync-engine/core'
import { expect, it } from 'vitest'
import { describeWithRedisAndMysql, eventually, useEngineHarness } from './support/engine-harness.ts'

/**
 * The batcher's three triggers, observed in Redis and SQL: count, bytes and age. Each engine sets
 * the other two triggers out of reach, writes with `ack: 'queued'` and never calls `flush()`, so
 * only the trigger under test can have written the rows. Before the trigger is reached, nothing
 * is in either tier.
 */

const FAR = { batchFlushMs: 60_000, batchFlushCount: 100_000, batchFlushBytes: 64 * 1024 * 1024 }

describeWithRedisAndMysql('engine batch flushing over Redis and SQL', () => {
  const h = useEngineHarness('batching')

  const rowsPresent = async (ids: readonly string[]) =>
    (await h.sqlRows(ids)).filter((row) => row !== undefined && !row.tombstone).length

  it('flushes by count: the 10th queued write sends all 10 to both tiers', async () => {
    const engine = await h.open({ ...FAR, batchFlushCount: 10 })
    const ids = Array.from({ length: 10 }, (_, i) => `count-${i}`)
    const versions = new Map<string, number>()
    for (const [i, id] of ids.slice(0, 9).entries()) {
      versions.set(id, (await engine.submit(SyncItem.fromJson(id, { i }), { ack: 'queued' })).version)
    }
    expect((await engine.health()).queue.depth).toBe(9)
    expect(await rowsPresent(ids)).toBe(0)
    expect(await h.redisExisting(ids)).toBe(0)

    versions.set(
      'count-9',
      (await engine.submit(SyncItem.fromJson('count-9', { i: 9 }), { ack: 'queued' })).version,
    )
    await eventually(
      '10 rows in SQL',
      () => rowsPresent(ids),
      (n) => n === 10,
    )
    await eventually(
      '10 keys in Redis',
      () => h.redisExisting(ids),
      (n) => n === 10,
    )
    for (const row of await h.sqlRows(ids)) expect(row?.version).toBe(versions.get(row?.id ?? ''))
    await eventually(
      'an empty queue once the batch settled',
      async () => (await engine.health()).queue.depth,
      (depth) => depth === 0,
    )
  })

  it('flushes by bytes: a few large items reach the byte threshold and are written', async () => {
    const content = new Uint8Array(32 * 1024).fill(7)
    const ids = ['bytes-0', 'bytes-1', 'bytes-2']
    const size = SyncItem.fromBinary('bytes-0', content).footprintBytes
    // Two items stay below the threshold, the third reaches it.
    const engine = await h.open({ ...FAR, batchFlushBytes: 3 * size - 1 })

    for (const id of ids.slice(0, 2)) await engine.submit(SyncItem.fromBinary(id, content), { ack: 'queued' })
    expect((await engine.health()).queue.depth).toBe(2)
    expect(await rowsPresent(ids)).toBe(0)
    expect(await h.redisExisting(ids)).toBe(0)

    await engine.submit(SyncItem.fromBinary('bytes-2', content), { ack: 'queued' })
    await eventually(
      '3 rows in SQL',
      () => rowsPresent(ids),
      (n) => n === 3,
    )
    await eventually(
      '3 keys in Redis',
      () => h.redisExisting(ids),
      (n) => n === 3,
    )
    for (const row of await h.sqlRows(ids)) {
      expect(row?.contentType).toBe('binary')
      expect(row?.blob?.byteLength).toBe(content.byteLength)
      expect(row?.blob?.every((b) => b === 7)).toBe(true)
    }
    const cached = await h.l2Value('bytes-1')
    expect(cached && !('corrupt' in cached) && cached.content?.byteLength).toBe(content.byteLength)
  })

  it('flushes by age: one queued item is written once it is old enough, with no flush() call', async () => {
    const engine = await h.open({ ...FAR, batchFlushMs: 50 })
    const receipt = await engine.submit(SyncItem.fromJson('age-1', 'old enough'), { ack: 'queued' })
    const row = await eventually(
      'the row in SQL',
      () => h.sqlRow('age-1'),
      (found) => found !== undefined,
    )
    expect(row?.version).toBe(receipt.version)
    await eventually(
      'the key in Redis',
      () => h.redisExisting(['age-1']),
      (n) => n === 1,
    )
    // The key can be visible a moment before the flush settles; the write is pending until then.
    const status = await eventually(
      'status synced',
      () => engine.status('age-1'),
      (s) => s.kind !== 'pending',
    )
    // L1 is write-around: the flushed write is in both tiers but not in L1 until it is read.
    expect(status).toEqual({ kind: 'synced', version: receipt.version, l1: false, l2: true, l3: true })
    expect((await engine.get('age-1'))?.version).toBe(receipt.version)
    expect(await engine.status('age-1')).toEqual({
      kind: 'synced',
      version: receipt.version,
      l1: true,
      l2: true,
      l3: true,
    })
  })

  it('does not flush a lone queued write before its age (control for the age test)', async () => {
    const engine = await h.open(FAR)
    await engine.submit(SyncItem.fromJson('age-never', 'waits'), { ack: 'queued' })
    // Give a misbehaving flush every chance to happen: other round trips to both servers.
    await h.sqlRows(['x', 'y', 'z'])
    await h.redis.ping()
    expect(await h.sqlRow('age-never')).toBeUndefined()
    expect(await h.redisExisting(['age-never'])).toBe(0)
    expect(await engine.status('age-never')).toMatchObject({ kind: 'pending', deleted: false })
    // Shutdown flushes it: nothing queued is lost.
    await engine.shutdown()
    expect(await h.sqlRow('age-never')).toBeDefined()
    expect(await h.redisExisting(['age-never'])).toBe(1)
  })
})
