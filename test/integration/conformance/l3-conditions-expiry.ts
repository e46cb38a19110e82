import type { L3Store, StoredRecord, WriteCondition } from '@sync-engine/core'
import { describe, expect, it } from 'vitest'
import { expectSameRecord, jsonRecord, T, tombstone } from './l3-records.ts'

const when = (entries: [string, number][]): ReadonlyMap<string, WriteCondition> =>
  new Map(entries.map(([id, ifVersion]) => [id, { ifVersion }]))
const expiring = (id: string, version: number, expiresAt: number): StoredRecord => ({
  ...jsonRecord(id, version),
  expiresAt,
})

/**
 * Conditional writes, `head`, expiry and exact delete receipts, for every L3. Runs inside
 * `runL3Conformance`, on the fresh store each of its cases gets.
 */
export function describeConditionsAndExpiry(store: () => L3Store): void {
  const readOne = async (id: string) => (await store().read([id])).get(id)

  describe('delete receipts', () => {
    it('a tombstone at the live item’s own version deletes nothing and is not reported as a delete', async () => {
      await store().write([jsonRecord('same', 4)])
      expect(await store().write([tombstone('same', 4)])).toMatchObject({ stale: [] })
      expect((await store().write([tombstone('same', 4)])).deletedLive ?? []).toEqual([])
      expect((await readOne('same'))?.tombstone).toBe(false)
      expect((await store().write([tombstone('same', 5)])).deletedLive).toEqual(['same'])
    })
  })

  describe('conditional writes', () => {
    it('applies a write whose condition names the live version; a conditional delete reports what it found', async () => {
      await store().write([jsonRecord('a', 1), jsonRecord('b', 1)])
      const next = jsonRecord('a', 2, '{"v":2}')
      expect(await store().write([next], { conditions: when([['a', 1]]) })).toEqual({ applied: 1, stale: [] })
      expectSameRecord(await readOne('a'), next)
      expect(await store().write([tombstone('b', 2)], { conditions: when([['b', 1]]) })).toEqual({
        applied: 1,
        stale: [],
        deletedLive: ['b'],
      })
      expect((await readOne('b'))?.tombstone).toBe(true)
    })

    it('writes nothing when the condition does not hold, and reports the live version (0: none)', async () => {
      const live = jsonRecord('a', 3)
      await store().write([live])
      for (const ifVersion of [2, 4, 0]) {
        expect(await store().write([jsonRecord('a', 9)], { conditions: when([['a', ifVersion]]) })).toEqual({
          applied: 0,
          stale: [],
          conflicts: new Map([['a', 3]]),
        })
      }
      expectSameRecord(await readOne('a'), live)
      expect(await store().write([jsonRecord('c', 1)], { conditions: when([['c', 5]]) })).toEqual({
        applied: 0,
        stale: [],
        conflicts: new Map([['c', 0]]),
      })
      expect(await readOne('c')).toBeUndefined()
    })

    it('creates only where no live item is (ifVersion 0): an absent id, a tombstone, an expired item', async () => {
      await store().write([tombstone('e', 5), expiring('f', 2, T + 10)])
      const create = (record: StoredRecord, now: number) =>
        store().write([record], { conditions: when([[record.id, 0]]), now })
      expect(await create(jsonRecord('d', 1), T)).toEqual({ applied: 1, stale: [] })
      expect(await create(jsonRecord('e', 6), T)).toEqual({ applied: 1, stale: [] })
      // Live until its expiry; from then on there is nothing to conflict with.
      expect(await create(jsonRecord('f', 3), T + 9)).toEqual({
        applied: 0,
        stale: [],
        conflicts: new Map([['f', 2]]),
      })
      expect(
        await store().write([jsonRecord('f', 3)], { conditions: when([['f', 2]]), now: T + 10 }),
      ).toEqual({ applied: 0, stale: [], conflicts: new Map([['f', 0]]) })
      expect(await create(jsonRecord('f', 3), T + 10)).toEqual({ applied: 1, stale: [] })
      const found = await store().read(['d', 'e', 'f'])
      expect(['d', 'e', 'f'].map((id) => `${id}@${found.get(id)?.version}`)).toEqual(['d@1', 'e@6', 'f@3'])
    })

    it('keeps the version guard when the condition holds: an older write is stale, with the stored version', async () => {
      await store().write([tombstone('g', 5)])
      expect(await store().write([jsonRecord('g', 4)], { conditions: when([['g', 0]]) })).toEqual({
        applied: 0,
        stale: ['g'],
        storedVersions: new Map([['g', 5]]),
      })
      expect((await readOne('g'))?.tombstone).toBe(true)
    })

    it('decides each record of a write on its own, conditional or not', async () => {
      await store().write([jsonRecord('h', 1), jsonRecord('i', 3)])
      const result = await store().write([jsonRecord('h', 2), jsonRecord('i', 4), jsonRecord('j', 1)], {
        conditions: when([
          ['h', 1],
          ['i', 1],
        ]),
      })
      expect(result).toEqual({ applied: 2, stale: [], conflicts: new Map([['i', 3]]) })
      const found = await store().read(['h', 'i', 'j'])
      expect(['h', 'i', 'j'].map((id) => `${id}@${found.get(id)?.version}`)).toEqual(['h@2', 'i@3', 'j@1'])
    })
  })

  describe('head, expiry and delete receipts', () => {
    it('head returns version, tombstone and expiry without content, expired items included', async () => {
      await store().write([expiring('k', 3, T + 5), tombstone('l', 4), jsonRecord('m', 1)])
      expect(await store().head(['k', 'l', 'm', 'none', 'k'])).toEqual(
        new Map([
          ['k', { id: 'k', version: 3, tombstone: false, expiresAt: T + 5 }],
          ['l', { id: 'l', version: 4, tombstone: true }],
          ['m', { id: 'm', version: 1, tombstone: false }],
        ]),
      )
      expect((await store().head([])).size).toBe(0)
    })

    it('read returns expired items (the caller decides); scanIds skips them only when given now', async () => {
      const n = expiring('n', 1, T + 100)
      await store().write([n, jsonRecord('o', 1), expiring('p', 1, T + 200)])
      expectSameRecord(await readOne('n'), n)
      expect(await store().scanIds({ limit: 10 })).toEqual(['n', 'o', 'p'])
      expect(await store().scanIds({ limit: 10, now: T + 99 })).toEqual(['n', 'o', 'p'])
      expect(await store().scanIds({ limit: 10, now: T + 100 })).toEqual(['o', 'p'])
      expect(await store().scanIds({ limit: 10, now: T + 200, after: 'n' })).toEqual(['o'])
    })

    it('purgeExpired turns items expired at now into tombstones that keep the version and date from the expiry', async () => {
      const q = { ...expiring('q', 7, T + 100), state: 'archived' }
      await store().write([q, expiring('r', 1, T + 200), jsonRecord('s', 1), tombstone('t', 2)])
      expect(await store().purgeExpired(T + 99)).toBe(0)
      expect(await store().purgeExpired(T + 100)).toBe(1)
      expectSameRecord(await readOne('q'), {
        ...tombstone('q', 7, T + 100),
        state: 'archived',
        contentType: q.contentType,
        mime: q.mime,
      })
      expect(await store().purgeExpired(T + 100)).toBe(0)
      expect(await store().count()).toBe(2)
      expect(await store().scanIds({ limit: 10 })).toEqual(['r', 's'])
      // The version stays: a delayed older write cannot bring the item back.
      expect(await store().write([jsonRecord('q', 6)])).toEqual({
        applied: 0,
        stale: ['q'],
        storedVersions: new Map([['q', 7]]),
      })
      expect(await store().purgeTombstones(T + 100)).toBe(1)
      expect(await store().purgeTombstones(T + 101)).toBe(1)
      expect(await readOne('q')).toBeUndefined()
    })

    it('a delete reports it found the item only when a live one was there at now', async () => {
      await store().write([expiring('u', 1, T + 10), expiring('v', 1, T + 10), tombstone('w', 1)])
      expect(await store().write([tombstone('u', 2)], { now: T + 10 })).toEqual({ applied: 1, stale: [] })
      expect(
        await store().write([tombstone('v', 2), tombstone('w', 2), tombstone('x', 1)], { now: T + 9 }),
      ).toEqual({ applied: 3, stale: [], deletedLive: ['v'] })
    })
  })
}
