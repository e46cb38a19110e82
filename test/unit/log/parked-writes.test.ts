import { type PendingWrite, SyncItem } from '@sync-engine/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { l1EntryBytes } from '../../../packages/core/src/l1/l1-entry.ts'
import { ParkedWrites } from '../../../packages/core/src/log/parked-writes.ts'

function write(id: string, version: number, size = 10): PendingWrite {
  return {
    id,
    version,
    updatedAt: 1,
    item: SyncItem.fromBinary(id, new Uint8Array(size)).withVersion(version, 1),
    route: { l2: false, l3: true, ttlMs: undefined },
    expiresAt: 0,
    callerVersioned: false,
  }
}

describe('ParkedWrites', () => {
  it('holds the parked write at exactly its marked version, and lets go of it when cleared or superseded', () => {
    const parked = new ParkedWrites(1 << 20)
    const first = write('a', 5)
    parked.mark('a', 5, first)
    expect(parked.held('a', 5)).toBe(first)
    expect(parked.held('a', 4)).toBeUndefined()
    // A lower or equal mark changes nothing: the first write of a version stays held.
    parked.mark('a', 5, write('a', 5))
    parked.mark('a', 3, write('a', 3))
    expect(parked.held('a', 5)).toBe(first)
    expect(parked.get('a')).toBe(5)
    // A newer mark without its write: the older copy no longer matches the log's newest entry.
    parked.mark('a', 7)
    expect(parked.held('a', 5)).toBeUndefined()
    expect(parked.heldCount).toBe(0)
    expect(parked.heldBytes).toBe(0)
    parked.mark('b', 1, write('b', 1))
    parked.clearUpTo('b', 0)
    expect(parked.held('b', 1)).toBeDefined()
    parked.clearUpTo('b', 1)
    expect(parked.has('b')).toBe(false)
    expect(parked.held('b', 1)).toBeUndefined()
    expect(parked.heldBytes).toBe(0)
  })

  it('never holds a write whose id or version is not the mark', () => {
    const parked = new ParkedWrites(1 << 20)
    parked.mark('a', 5, write('b', 5))
    parked.mark('c', 5, write('c', 6))
    expect(parked.size).toBe(2)
    expect(parked.heldCount).toBe(0)
  })

  it('marks past its budget without holding the write', () => {
    const one = l1EntryBytes(write('k0', 1, 100))
    const parked = new ParkedWrites(one * 2)
    for (let i = 0; i < 5; i++) parked.mark(`k${i}`, 1, write(`k${i}`, 1, 100))
    expect(parked.size).toBe(5)
    expect(parked.heldCount).toBe(2)
    expect(parked.heldBytes).toBe(one * 2)
    parked.clearUpTo('k0', 1)
    parked.mark('k9', 1, write('k9', 1, 100))
    expect(parked.held('k9', 1)).toBeDefined()
  })

  it('against a model: marks keep the highest version, held writes match their mark, bytes stay within budget', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('mark' as const),
        id: fc.constantFrom('a', 'b', 'c'),
        version: fc.integer({ min: 1, max: 8 }),
        hold: fc.boolean(),
        size: fc.integer({ min: 0, max: 300 }),
      }),
      fc.record({
        kind: fc.constant('clear' as const),
        id: fc.constantFrom('a', 'b', 'c'),
        version: fc.integer({ min: 0, max: 8 }),
      }),
    )
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_500 }),
        fc.array(op, { size: 'max', maxLength: 60 }),
        (budget, ops) => {
          const parked = new ParkedWrites(budget)
          const marks = new Map<string, number>()
          const writes = new Map<string, PendingWrite>()
          for (const o of ops) {
            if (o.kind === 'mark') {
              const w = write(o.id, o.version, o.size)
              parked.mark(o.id, o.version, o.hold ? w : undefined)
              if ((marks.get(o.id) ?? 0) < o.version) {
                marks.set(o.id, o.version)
                writes.set(o.id, w)
              }
            } else if ((marks.get(o.id) ?? Number.POSITIVE_INFINITY) <= o.version) {
              parked.clearUpTo(o.id, o.version)
              marks.delete(o.id)
            } else parked.clearUpTo(o.id, o.version)
            let bytes = 0
            for (const id of ['a', 'b', 'c']) {
              expect(parked.get(id)).toBe(marks.get(id))
              const version = marks.get(id)
              const held = version === undefined ? undefined : parked.held(id, version)
              if (held !== undefined) {
                expect(held).toBe(writes.get(id))
                bytes += l1EntryBytes(held)
              }
            }
            expect(parked.heldBytes).toBe(bytes)
            expect(parked.heldBytes).toBeLessThanOrEqual(budget)
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})
