import { ExistenceFilter } from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}:${i}`)

function missing(filter: ExistenceFilter, list: readonly string[]): string[] {
  return list.filter((id) => !filter.mightContain(id))
}

describe('ExistenceFilter', () => {
  it('grows past its sizing by chaining links, keeping every id', () => {
    const filter = new ExistenceFilter({ expectedIds: 100, seed: 7 })
    const initialCapacity = filter.capacity
    const added = ids('user', 50_000)
    for (const id of added) filter.add(id)
    expect(missing(filter, added)).toEqual([])
    expect(filter.size).toBe(50_000)
    expect(filter.links).toBeGreaterThan(1)
    expect(filter.capacity).toBeGreaterThanOrEqual(50_000)
    expect(filter.capacity).toBeGreaterThan(initialCapacity)
    expect(filter.loadFactor).toBeLessThanOrEqual(1)
  })

  it('really deletes: removed ids read as absent, the others stay', () => {
    const filter = new ExistenceFilter({ expectedIds: 1000, seed: 11 })
    const all = ids('doc', 1000)
    for (const id of all) filter.add(id)
    const [gone, kept] = [all.slice(0, 500), all.slice(500)]
    for (const id of gone) expect(filter.remove(id)).toBe(true)
    // With 32-bit fingerprints a removed id colliding with a kept one is a ~1e-9 event; the seed is fixed.
    expect(gone.filter((id) => filter.mightContain(id))).toEqual([])
    expect(missing(filter, kept)).toEqual([])
    expect(filter.size).toBe(500)
  })

  it('counts: an id added twice survives one remove', () => {
    const filter = new ExistenceFilter({ seed: 3 })
    filter.add('a')
    filter.add('a')
    expect(filter.remove('a')).toBe(true)
    expect(filter.mightContain('a')).toBe(true)
    expect(filter.remove('a')).toBe(true)
    expect(filter.mightContain('a')).toBe(false)
  })

  it('returns false and changes nothing when removing an id that was never added', () => {
    const filter = new ExistenceFilter({ seed: 5 })
    filter.add('present')
    expect(filter.remove('never-added')).toBe(false)
    expect(filter.size).toBe(1)
    expect(filter.mightContain('present')).toBe(true)
  })

  it('keeps an id whose count saturated, however often it is removed', () => {
    // Wrapping an 8-bit count back to 0 would drop the id while it is still held.
    const filter = new ExistenceFilter({ seed: 9 })
    for (let i = 0; i < 300; i++) filter.add('hot')
    expect(filter.size).toBe(255)
    for (let i = 0; i < 300; i++) expect(filter.remove('hot')).toBe(true)
    expect(filter.mightContain('hot')).toBe(true)
    expect(filter.size).toBe(255)
  })

  it('uses about 5.6 bytes per id when sized for its ids', () => {
    // 5 bytes per slot (32-bit fingerprint + 8-bit count) at the 90% sizing load.
    const filter = new ExistenceFilter({ expectedIds: 100_000, seed: 13 })
    for (const id of ids('item', 100_000)) filter.add(id)
    expect(filter.links).toBe(1)
    expect(filter.loadFactor).toBeGreaterThan(0.89)
    expect(filter.memoryBytes / filter.size).toBeLessThan(5.7)
  })

  it('places ids by a seeded hash: the same seed gives the same answers', () => {
    const a = new ExistenceFilter({ seed: 21, fingerprintBits: 6 })
    const b = new ExistenceFilter({ seed: 21, fingerprintBits: 6 })
    const c = new ExistenceFilter({ seed: 22, fingerprintBits: 6 })
    for (const id of ids('k', 500)) {
      a.add(id)
      b.add(id)
      c.add(id)
    }
    const probe = ids('other', 2000)
    const answers = (f: ExistenceFilter) => probe.map((id) => f.mightContain(id))
    expect(answers(a)).toEqual(answers(b))
    // A different seed moves the false positives.
    expect(answers(a)).not.toEqual(answers(c))
  })

  it('rejects options it cannot honour', () => {
    expect(() => new ExistenceFilter({ fingerprintBits: 0 })).toThrow(RangeError)
    expect(() => new ExistenceFilter({ fingerprintBits: 33 })).toThrow(RangeError)
    expect(() => new ExistenceFilter({ expectedIds: -1 })).toThrow(RangeError)
    expect(() => new ExistenceFilter({ expectedIds: Number.NaN })).toThrow(RangeError)
  })
})
