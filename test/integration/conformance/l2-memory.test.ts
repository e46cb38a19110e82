import { BackendError, InvalidArgumentError, MemoryL2Store } from '@sync-engine/core'
import { describe, expect, it } from 'vitest'
import { runL2Conformance } from './l2-conformance.ts'
import { binaryRecord, bytes, expectRecord, recordOf, tombstone } from './l2-records.ts'

runL2Conformance('memory', {
  makeStore: async (options) => {
    const store = new MemoryL2Store(options)
    await store.init()
    return store
  },
})

/** What the suite checks on Redis with PTTL, checked here on the store's own clock. */
describe('MemoryL2Store: TTLs on an injected clock', () => {
  let now = 1_000
  const clock = () => now
  const present = async (store: MemoryL2Store, id: string) => {
    const [read, head, scanned, counted] = await Promise.all([
      store.read([id]),
      store.head([id]),
      store.scanPrefix(id),
      store.countPrefix(id),
    ])
    const answers = [read.has(id), head.has(id), scanned.ids.includes(id), counted === 1]
    // Every way of looking agrees.
    expect(new Set(answers).size).toBe(1)
    return answers[0]!
  }

  it('an entry written with ttlMs is there until now + ttl, and gone from then on', async () => {
    now = 1_000
    const store = new MemoryL2Store({ now: clock })
    await store.write([{ record: binaryRecord('a', 1, bytes(1)), ttlMs: 500 }])
    now = 1_499
    expect(await present(store, 'a')).toBe(true)
    now = 1_500
    expect(await present(store, 'a')).toBe(false)
    expect(await store.delete(['a'])).toBe(0)
    // Gone means gone, as in Redis: an older version is a first write, not stale.
    expect(await store.write([{ record: binaryRecord('a', 1, bytes(2)) }])).toEqual({ applied: 1, stale: [] })
  })

  it('keeps a tombstone for the retention, whatever ttlMs its entry asks for', async () => {
    now = 0
    const store = new MemoryL2Store({ now: clock, tombstoneRetentionMs: 10_000 })
    await store.write([{ record: tombstone('t', 5), ttlMs: 5 }])
    now = 9_999
    expect(recordOf((await store.read(['t'])).get('t'))).toMatchObject({ version: 5, tombstone: true })
    now = 10_000
    expect(await present(store, 't')).toBe(false)
  })

  it('each newer write sets, replaces or clears the TTL; a stale or same-version write leaves it', async () => {
    now = 0
    const store = new MemoryL2Store({ now: clock })
    await store.write([{ record: binaryRecord('c', 1, bytes(1)), ttlMs: 1_000 }])
    now = 500
    await store.write([{ record: binaryRecord('c', 2, bytes(2)), ttlMs: 100 }])
    now = 599
    expect(await present(store, 'c')).toBe(true)
    await store.write([{ record: binaryRecord('c', 3, bytes(3)) }])
    await store.write([{ record: binaryRecord('c', 2, bytes(2)), ttlMs: 1 }])
    await store.write([{ record: binaryRecord('c', 3, bytes(4)), ttlMs: 1 }])
    now = 1_000_000_000
    expectRecord((await store.read(['c'])).get('c'), binaryRecord('c', 3, bytes(3)))
  })

  it('an expired key holds no live item: create-only succeeds, a condition on the old version conflicts', async () => {
    now = 0
    const store = new MemoryL2Store({ now: clock })
    await store.write([
      { record: binaryRecord('x', 4, bytes(4)), ttlMs: 10 },
      { record: binaryRecord('y', 4, bytes(4)), ttlMs: 10 },
    ])
    now = 10
    expect(
      await store.write([
        { record: binaryRecord('x', 5, bytes(5)), ifVersion: 0 },
        { record: binaryRecord('y', 5, bytes(5)), ifVersion: 4 },
      ]),
    ).toEqual({ applied: 1, stale: [], conflicts: new Map([['y', 0]]) })
  })
})

describe('MemoryL2Store: its own state', () => {
  it('copies content on write and on read: callers cannot change what is stored', async () => {
    const store = new MemoryL2Store()
    const content = bytes(1, 2, 3)
    await store.write([{ record: binaryRecord('own', 1, content) }])
    content[0] = 9
    const first = recordOf((await store.read(['own'])).get('own'))
    expect([...first.content!]).toEqual([1, 2, 3])
    first.content![1] = 9
    expect([...recordOf((await store.read(['own'])).get('own')).content!]).toEqual([1, 2, 3])
  })

  it('pages scans in id order with its own cursors, and refuses one it did not make', async () => {
    const store = new MemoryL2Store()
    const ids = ['p/c', 'p/a', 'p/é', 'p/b', 'q/a']
    await store.write(ids.map((id) => ({ record: binaryRecord(id, 1, bytes(1)) })))
    const first = await store.scanPrefix('p/', { limit: 2 })
    expect(first.ids).toEqual(['p/a', 'p/b'])
    const second = await store.scanPrefix('p/', { limit: 2, cursor: first.cursor! })
    expect(second).toEqual({ ids: ['p/c', 'p/é'], cursor: null })
    expect((await store.scanPrefix('p/', { cursor: '0' })).ids).toHaveLength(4)
    await expect(store.scanPrefix('p/', { cursor: '17' })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(store.scanPrefix('p/', { limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError)
  })

  it('names itself, offers no Redis capabilities, and refuses every call once closed', async () => {
    const store = new MemoryL2Store({ name: 'cache' })
    expect(store.identity).toBe('memory:cache')
    expect(store.driver).toBe('memory')
    expect(store.capabilities).toEqual({ json: false, search: false, cluster: false })
    await store.close()
    await store.close()
    for (const call of [
      () => store.init(),
      () => store.head(['a']),
      () => store.delete(['a']),
      () => store.scanPrefix(''),
      () => store.countPrefix(''),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(BackendError)
    }
  })
})
