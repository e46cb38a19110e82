import {
  isCorrupt,
  MemoryL2Store,
  MemoryL3Store,
  MemoryWriteAheadLog,
  SyncEngine,
  SyncItem,
} from '@sync-engine/core'
import { afterEach, describe, expect, it } from 'vitest'

/** An engine on the memory stores alone: no SQLite, no Redis, no file. */

const engines: SyncEngine[] = []
afterEach(async () => {
  await Promise.allSettled(engines.splice(0).map((engine) => engine.shutdown()))
})

async function memoryEngine(seed: (l3: MemoryL3Store) => Promise<unknown> = async () => {}) {
  const l2 = new MemoryL2Store()
  const l3 = new MemoryL3Store({ name: 'unit' })
  await seed(l3)
  const wal = new MemoryWriteAheadLog({ maxBytes: 1 << 20 })
  const engine = new SyncEngine({ l2, l3, wal })
  engines.push(engine)
  await engine.start()
  return { engine, l2, l3, wal }
}

describe('SyncEngine on MemoryL2Store, MemoryL3Store and MemoryWriteAheadLog', () => {
  it('starts ready, with every tier configured and healthy, and the log bound to the memory L3', async () => {
    const { engine, wal } = await memoryEngine()
    const health = await engine.health()
    expect(health.ready).toBe(true)
    expect(health.degraded).toEqual([])
    expect(health.l2).toMatchObject({ configured: true, ok: true, driver: 'memory' })
    expect(health.l3).toMatchObject({ configured: true, ok: true, dialect: 'memory' })
    expect(health.wal).toMatchObject({ configured: true })
    expect(wal.target).toBe('memory:unit')
  })

  it('submit, get and getMany: logged first, then stored in both tiers once flushed', async () => {
    const { engine, l2, l3, wal } = await memoryEngine()
    const receipt = await engine.submit(SyncItem.fromJson('user:1', { name: 'Ada' }))
    expect(receipt).toMatchObject({ id: 'user:1', ack: 'logged' })
    // Logged means in the log when the receipt arrives.
    expect((await wal.latest('user:1'))?.version).toBe(receipt.version)
    expect((await engine.get('user:1'))?.json()).toEqual({ name: 'Ada' })
    await engine.submit(SyncItem.fromBinary('blob:1', Uint8Array.of(0, 1, 0xff)))
    await engine.flush()
    const stored = (await l3.read(['user:1'])).get('user:1')
    expect(stored).toMatchObject({ id: 'user:1', version: receipt.version, tombstone: false })
    expect(new TextDecoder().decode(stored!.content!)).toBe('{"name":"Ada"}')
    const cached = (await l2.read(['user:1'])).get('user:1')
    expect(cached !== undefined && !isCorrupt(cached) && cached.version).toBe(receipt.version)
    const [user, blob, missing] = await engine.getMany(['user:1', 'blob:1', 'nobody'])
    expect(user?.json()).toEqual({ name: 'Ada' })
    expect([...blob!.content]).toEqual([0, 1, 0xff])
    expect(missing).toBeUndefined()
  })

  it('an item written with ack stored is in L3 when the receipt arrives, and status says synced', async () => {
    const { engine, l3 } = await memoryEngine()
    const receipt = await engine.submit(SyncItem.fromJson('doc', { v: 1 }), { ack: 'stored' })
    expect(receipt.ack).toBe('stored')
    expect((await l3.head(['doc'])).get('doc')).toMatchObject({ version: receipt.version, tombstone: false })
    expect(await engine.contains('doc')).toBe(true)
    expect(await engine.status('doc')).toMatchObject({ kind: 'synced', version: receipt.version, l3: true })
  })

  it('delete reports what it found, leaves a tombstone in L3, and the item is gone everywhere', async () => {
    const { engine, l3 } = await memoryEngine()
    await engine.submit(SyncItem.fromJson('gone', { v: 1 }), { ack: 'stored' })
    const receipt = await engine.delete('gone', { ack: 'stored' })
    expect(receipt).toMatchObject({ id: 'gone', ack: 'stored', existed: true })
    expect((await l3.read(['gone'])).get('gone')).toMatchObject({ tombstone: true, content: null })
    expect(await engine.get('gone')).toBeUndefined()
    expect(await engine.getMany(['gone'])).toEqual([undefined])
    expect(await engine.contains('gone')).toBe(false)
    expect(await engine.status('gone')).toEqual({ kind: 'missing' })
    expect(await engine.delete('never-was', { ack: 'stored' })).toMatchObject({ existed: false })
  })

  it('reads an item L3 held before the start (a SyncItem is a record too), and fills L2 from it', async () => {
    const item = SyncItem.fromJson('seeded', { from: 'l3' }).withVersion(5, Date.now())
    const { engine, l2 } = await memoryEngine((l3) => l3.write([item]))
    expect(await engine.contains('seeded')).toBe(true)
    expect((await engine.get('seeded'))?.json()).toEqual({ from: 'l3' })
    // The back-fill runs in the background: wait for it, boundedly.
    for (let i = 0; i < 200 && !(await l2.head(['seeded'])).has('seeded'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    expect((await l2.head(['seeded'])).get('seeded')).toMatchObject({ version: 5, tombstone: false })
  })
})
