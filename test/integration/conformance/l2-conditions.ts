import type { L2Store } from '@sync-engine/core'
import { describe, expect, it } from 'vitest'
import { binaryRecord, bytes, expectRecord, recordOf, tombstone } from './l2-records.ts'

const EXPIRES_AT = 1_900_000_000_000

/**
 * Conditional writes (`ifVersion`) and `head`, for every L2: checked atomically with the version
 * guard, per entry of a batch. Ids start with `cond/` and `head/`, apart from the suite's others.
 */
export function describeConditionsAndHeads(store: () => L2Store): void {
  const readOne = async (id: string) => (await store().read([id])).get(id)

  describe('conditional writes', () => {
    it('applies a write whose condition names the live version, and reports the item it replaced', async () => {
      await store().write([{ record: binaryRecord('cond/a', 1, bytes(1)) }])
      const next = binaryRecord('cond/a', 2, bytes(2))
      expect(await store().write([{ record: next, ifVersion: 1 }])).toEqual({
        applied: 1,
        stale: [],
        replacedLive: ['cond/a'],
      })
      expectRecord(await readOne('cond/a'), next)
    })

    it('writes nothing when the condition does not hold, and reports the live version (0: none)', async () => {
      const live = binaryRecord('cond/b', 3, bytes(3))
      await store().write([{ record: live }])
      for (const ifVersion of [2, 4, 0]) {
        expect(await store().write([{ record: binaryRecord('cond/b', 9, bytes(9)), ifVersion }])).toEqual({
          applied: 0,
          stale: [],
          conflicts: new Map([['cond/b', 3]]),
        })
      }
      expectRecord(await readOne('cond/b'), live)
      expect(await store().write([{ record: binaryRecord('cond/c', 1, bytes(1)), ifVersion: 5 }])).toEqual({
        applied: 0,
        stale: [],
        conflicts: new Map([['cond/c', 0]]),
      })
      expect(await readOne('cond/c')).toBeUndefined()
    })

    it('creates only where no live item is (ifVersion 0): an absent id or a tombstone', async () => {
      const created = binaryRecord('cond/d', 1, bytes(1))
      expect(await store().write([{ record: created, ifVersion: 0 }])).toEqual({ applied: 1, stale: [] })
      expectRecord(await readOne('cond/d'), created)
      await store().write([{ record: tombstone('cond/e', 5) }])
      const reborn = binaryRecord('cond/e', 6, bytes(6))
      expect(await store().write([{ record: reborn, ifVersion: 0 }])).toEqual({ applied: 1, stale: [] })
      expectRecord(await readOne('cond/e'), reborn)
    })

    it('keeps the version guard when the condition holds: an older write is stale, the same version a no-op', async () => {
      await store().write([{ record: tombstone('cond/f', 5) }])
      expect(await store().write([{ record: binaryRecord('cond/f', 4, bytes(4)), ifVersion: 0 }])).toEqual({
        applied: 0,
        stale: ['cond/f'],
      })
      expect(recordOf(await readOne('cond/f'))).toMatchObject({ version: 5, tombstone: true })
      const live = binaryRecord('cond/g', 5, bytes(5))
      await store().write([{ record: live }])
      expect(await store().write([{ record: binaryRecord('cond/g', 5, bytes(6)), ifVersion: 5 }])).toEqual({
        applied: 0,
        stale: [],
      })
      expectRecord(await readOne('cond/g'), live)
    })

    it('checks each entry of a batch on its own, conditional tombstones included', async () => {
      await store().write([
        { record: binaryRecord('cond/h', 1, bytes(1)) },
        { record: binaryRecord('cond/i', 3, bytes(3)) },
        { record: binaryRecord('cond/k', 1, bytes(1)) },
      ])
      const result = await store().write([
        { record: binaryRecord('cond/h', 2, bytes(2)), ifVersion: 1 },
        { record: binaryRecord('cond/i', 4, bytes(4)), ifVersion: 1 },
        { record: binaryRecord('cond/j', 1, bytes(1)) },
        { record: tombstone('cond/k', 2), ifVersion: 1 },
      ])
      expect(result).toEqual({
        applied: 3,
        stale: [],
        replacedLive: ['cond/h', 'cond/k'],
        conflicts: new Map([['cond/i', 3]]),
      })
      const found = await store().read(['cond/h', 'cond/i', 'cond/j', 'cond/k'])
      expect(['cond/h', 'cond/i', 'cond/j', 'cond/k'].map((id) => recordOf(found.get(id)).version)).toEqual([
        2, 3, 1, 2,
      ])
      expect(recordOf(found.get('cond/k')).tombstone).toBe(true)
    })
  })

  describe('head', () => {
    it('returns version, tombstone and expiry without content, and nothing for absent ids', async () => {
      await store().write([
        { record: { ...binaryRecord('head/a', 3, bytes(1, 2, 3)), expiresAt: EXPIRES_AT } },
        { record: tombstone('head/b', 4) },
        { record: binaryRecord('head/c', 1, bytes(1)) },
      ])
      const heads = await store().head(['head/a', 'head/b', 'head/c', 'head/none', 'head/a'])
      expect(heads).toEqual(
        new Map([
          ['head/a', { id: 'head/a', version: 3, tombstone: false, expiresAt: EXPIRES_AT }],
          ['head/b', { id: 'head/b', version: 4, tombstone: true }],
          ['head/c', { id: 'head/c', version: 1, tombstone: false }],
        ]),
      )
      expect((await store().head([])).size).toBe(0)
    })
  })
}
