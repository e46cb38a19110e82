import { BackendError, MemoryL3Store, SyncItem } from '@sync-engine/core'
import { describe, expect, it } from 'vitest'
import { runL3Conformance } from './l3-conformance.ts'
import { binaryRecord, T } from './l3-records.ts'

let stores = 0

runL3Conformance('L3 conformance: memory', async () => {
  const store = new MemoryL3Store({ name: `conformance-${++stores}` })
  await store.init()
  return { store, cleanup: () => store.close() }
})

describe('MemoryL3Store: its own state', () => {
  it('copies content on write and on read: callers cannot change what is stored', async () => {
    const store = new MemoryL3Store()
    const content = Uint8Array.of(1, 2, 3)
    await store.write([binaryRecord('own', 1, content)])
    content[0] = 9
    const first = (await store.read(['own'])).get('own')!
    expect([...first.content!]).toEqual([1, 2, 3])
    first.content![1] = 9
    expect([...(await store.read(['own'])).get('own')!.content!]).toEqual([1, 2, 3])
  })

  it('stores a versioned SyncItem as the record it is (its tombstone flag is a getter)', async () => {
    const store = new MemoryL3Store()
    const item = SyncItem.fromJson('item', { a: 1 }).withVersion(3, T)
    expect(await store.write([item])).toEqual({ applied: 1, stale: [] })
    expect((await store.read(['item'])).get('item')).toMatchObject({ version: 3, tombstone: false })
    expect(await store.count()).toBe(1)
    expect(await store.scanIds({ limit: 10 })).toEqual(['item'])
  })

  it('names itself for the log to bind to, and refuses every call once closed', async () => {
    const store = new MemoryL3Store({ name: 'truth' })
    expect(store.identity).toBe('memory:truth')
    expect(new MemoryL3Store().identity).toBe('memory:default')
    expect([store.dialect, store.driver]).toEqual(['memory', 'memory'])
    expect(store.capabilities).toMatchObject({ exactChangeCount: true, shared: false })
    expect(store.capabilities.maxContentBytes).toBeUndefined()
    await store.close()
    await store.close()
    for (const call of [
      () => store.init(),
      () => store.ping(),
      () => store.read(['a']),
      () => store.head(['a']),
      () => store.write([binaryRecord('a', 1, new Uint8Array(1))]),
      () => store.scanIds({ limit: 1 }),
      () => store.maxVersion(),
      () => store.count(),
      () => store.purgeTombstones(T),
      () => store.purgeExpired(T),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(BackendError)
    }
  })
})
