import { ExistenceFilter } from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'

/**
 * False positives measured on 100,000 added and 100,000 never-added ids. A lookup compares its
 * fingerprint with the fingerprints in two buckets of four slots, so with load α and f-bit
 * fingerprints the rate is about 8α / (2^f - 1) per link. Rates above that bound mean the hash
 * clusters ids or fingerprints (or lookups match too loosely).
 */

const N = 100_000
const added = Array.from({ length: N }, (_, i) => `user:${i}`)
const neverAdded = Array.from({ length: N }, (_, i) => `absent:${i}`)

function falsePositiveRate(filter: ExistenceFilter): number {
  let hits = 0
  for (const id of neverAdded) if (filter.mightContain(id)) hits++
  return hits / N
}

describe('ExistenceFilter false-positive rate', () => {
  it('is about 1.7e-9 with 32-bit fingerprints: none in 100,000 lookups', () => {
    const filter = new ExistenceFilter({ expectedIds: N, seed: 1 })
    for (const id of added) filter.add(id)
    // 8 × 0.9 / 2^32 ≈ 1.7e-9, so even one hit in 100,000 would be a 6e4-fold excess.
    expect(falsePositiveRate(filter)).toBe(0)
  })

  it.each([8, 12])('stays under 8α / 2^f with %i-bit fingerprints', (fingerprintBits) => {
    const filter = new ExistenceFilter({ expectedIds: N, seed: 1, fingerprintBits })
    for (const id of added) filter.add(id)
    const bound = (8 * filter.loadFactor) / (2 ** fingerprintBits - 1)
    // 10% slack: at 100,000 lookups the sampling error at 8 bits is about 2% of the rate.
    expect(falsePositiveRate(filter)).toBeLessThan(bound * 1.1)
  })

  it('adds up over chained links after growth, and no more', () => {
    const filter = new ExistenceFilter({ expectedIds: 1000, seed: 1, fingerprintBits: 8 })
    for (const id of added) filter.add(id)
    expect(filter.links).toBeGreaterThan(1)
    // Each link contributes at most 8 × 0.95 / 255.
    expect(falsePositiveRate(filter)).toBeLessThan((filter.links * 8 * 0.95) / 255)
  })
})
