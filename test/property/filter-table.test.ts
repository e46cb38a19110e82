import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CuckooTable } from '../../packages/core/src/filter/cuckoo-table.ts'

/**
 * One cuckoo table filled past what it can hold. The filter above it opens a new link at 95% load,
 * which hides this table's own behaviour when full, so it is driven directly: every fingerprint it
 * accepted must stay findable through any number of displacements, and an insert it refuses must
 * leave it exactly as it was (the displacement chain undone, no fingerprint dropped).
 */

interface Entry {
  readonly i1: number
  readonly fp: number
}

const fpArb = fc.oneof(fc.integer({ min: 1, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 15 }))

describe('CuckooTable filled to refusal', () => {
  it('keeps every accepted fingerprint, and a refused insert changes nothing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer(),
        fc.array(fc.record({ lo: fc.nat({ max: 2 ** 32 - 1 }), fp: fpArb }), {
          minLength: 200,
          maxLength: 200,
        }),
        (buckets, rngSeed, candidates) => {
          const table = new CuckooTable(buckets, rngSeed)
          const accepted: Entry[] = []
          const allFound = () => accepted.every((e) => table.find(e.i1, e.fp) >= 0)
          let refusals = 0
          for (const { lo, fp } of candidates) {
            const entry = { i1: table.primaryBucket(lo), fp }
            const occupied = table.occupied
            if (table.insert(entry.i1, entry.fp)) {
              accepted.push(entry)
              expect(table.occupied).toBe(occupied + 1)
            } else {
              refusals++
              expect(table.occupied).toBe(occupied)
            }
            expect(allFound()).toBe(true)
          }
          // 200 candidates for at most 160 slots: the table was full and refused at least once.
          expect(refusals).toBeGreaterThan(0)
          expect(accepted.length).toBe(table.occupied)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('decrementing one entry leaves every other entry findable, even with equal fingerprints', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }),
        fc.integer(),
        fc.array(fc.record({ lo: fc.nat({ max: 2 ** 32 - 1 }), fp: fc.integer({ min: 1, max: 3 }) }), {
          maxLength: 80,
          size: 'max',
        }),
        fc.array(fc.nat(), { maxLength: 80, size: 'max' }),
        (buckets, rngSeed, candidates, removals) => {
          const table = new CuckooTable(buckets, rngSeed)
          const held: Entry[] = []
          for (const { lo, fp } of candidates) {
            const entry = { i1: table.primaryBucket(lo), fp }
            if (table.insert(entry.i1, entry.fp)) held.push(entry)
          }
          for (const r of removals) {
            if (held.length === 0) break
            const [gone] = held.splice(r % held.length, 1)
            const slot = table.find(gone!.i1, gone!.fp)
            expect(slot).toBeGreaterThanOrEqual(0)
            expect(table.decrement(slot)).toBe(true)
            for (const e of held) expect(table.find(e.i1, e.fp)).toBeGreaterThanOrEqual(0)
          }
          expect(table.occupied).toBe(held.length)
        },
      ),
      { numRuns: 300 },
    )
  })
})
