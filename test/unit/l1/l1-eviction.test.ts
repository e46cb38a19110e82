import {
  InvalidArgumentError,
  L1_EVICTION,
  L1Cache,
  type L1Entry,
  l1EntryBytes,
  SyncItem,
} from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'

// Each test shows one factor of the policy changing which entry goes, against what plain LRU
// (always the least recent) would have done.

const T0 = 1_700_000_000_000

function entry(id: string, contentBytes = 100, version = 1, expiresAt = 0): L1Entry {
  const item = SyncItem.fromBinary(id, new Uint8Array(contentBytes)).withVersion(version, 0)
  return { id, item, version, expiresAt }
}

/** The bytes of an entry of default content; an item's footprint counts its id, so ids of one length are one size. */
const unitOf = (id: string) => l1EntryBytes(entry(id))
const UNIT = unitOf('a')
const UNIT2 = unitOf('ab')

function cacheOf(units: number, now = () => T0, unit = UNIT) {
  return new L1Cache(units * unit, now)
}

function ids(cache: L1Cache): string[] {
  return [...cache.entries()].map((e) => e.id)
}

function read(cache: L1Cache, id: string, times: number) {
  for (let i = 0; i < times; i++) expect(cache.get(id)).toBeDefined()
}

describe('L1 eviction policy', () => {
  it('recency: among entries of one size read as often, the least recently used goes', () => {
    const cache = cacheOf(3)
    for (const id of ['a', 'b', 'c']) cache.set(entry(id))
    // Read once each, c first: c is now the least recently used, a (the first stored) the most.
    for (const id of ['c', 'b', 'a']) read(cache, id, 1)
    cache.set(entry('d'))
    expect(ids(cache)).toEqual(['d', 'a', 'b'])
    expect(cache.evictions).toBe(1)
  })

  it('recency: an entry read lately is outside the sample, however rarely read', () => {
    const cache = cacheOf(L1_EVICTION.sampleSize + 1, () => T0, UNIT2)
    cache.set(entry('on'))
    for (let i = 0; i < L1_EVICTION.sampleSize; i++) {
      cache.set(entry(`h${i}`))
      read(cache, `h${i}`, 10)
    }
    read(cache, 'on', 1)
    // The sample is the least recent five, all read 10 times: one of them goes, not the newest.
    cache.set(entry('nw'))
    expect(cache.peek('on')).toBeDefined()
    expect(cache.peek('h0')).toBeUndefined()
    expect(cache.evictions).toBe(1)
  })

  it('frequency: a frequently read older entry outlives a newer entry read once', () => {
    const cache = cacheOf(2)
    cache.set(entry('o'))
    read(cache, 'o', 3)
    cache.set(entry('y'))
    read(cache, 'y', 1)
    // Plain LRU would evict o, the least recent.
    cache.set(entry('n'))
    expect(cache.peek('o')).toBeDefined()
    expect(cache.peek('y')).toBeUndefined()
    expect(ids(cache)).toEqual(['n', 'o'])
  })

  it('frequency: a new version of an id keeps the id’s read count', () => {
    const cache = cacheOf(2)
    cache.set(entry('a'))
    read(cache, 'a', 3)
    cache.set(entry('b'))
    read(cache, 'b', 1)
    expect(cache.replaceIfPresent(entry('a', 100, 2))).toBe(true)
    // `a` v2 is now the most recent anyway; make it the least recent again.
    read(cache, 'b', 1)
    cache.set(entry('c'))
    expect(cache.peek('a')?.version).toBe(2)
    expect(cache.peek('b')).toBeUndefined()
  })

  it('frequency: the read count saturates, so a long-hot entry does not outweigh size without end', () => {
    const big = entry('bg', 20 * UNIT2)
    const bigBytes = l1EntryBytes(big)
    // Worth per byte: big read any number of times is worth at most (maxHits + 1) / bigBytes.
    expect((L1_EVICTION.maxHits + 1) / bigBytes).toBeLessThan(1 / UNIT2)
    const cache = new L1Cache(bigBytes + 2 * UNIT2, () => T0)
    cache.set(big)
    read(cache, 'bg', 1000)
    cache.set(entry('s1'))
    cache.set(entry('s2'))
    cache.set(entry('s3'))
    expect(ids(cache)).toEqual(['s3', 's2', 's1'])
  })

  it('size: with equal recency and reads, one big entry goes before several small ones', () => {
    const big = entry('bg', 2 * UNIT2)
    const cache = new L1Cache(2 * UNIT2 + l1EntryBytes(big), () => T0)
    cache.set(entry('s1'))
    cache.set(big)
    cache.set(entry('s2'))
    // Plain LRU would evict s1, the least recent; the policy evicts big, worth least per byte.
    cache.set(entry('s3'))
    expect(ids(cache)).toEqual(['s3', 's2', 's1'])
    expect(cache.evictions).toBe(1)
    expect(cache.bytes).toBe(3 * UNIT2)
    // And when a newcomer needs room for two: big goes, rather than two small ones.
    const cache2 = new L1Cache(2 * UNIT2 + l1EntryBytes(big), () => T0)
    cache2.set(entry('s1'))
    cache2.set(entry('s2'))
    cache2.set(big)
    cache2.set(entry('tw', UNIT2))
    expect(ids(cache2)).toEqual(['tw', 's2', 's1'])
    expect(cache2.evictions).toBe(1)
  })

  it('size against frequency: a big entry read often enough outlives a small one read once', () => {
    const big = entry('b', UNIT) // about two units
    const ratio = l1EntryBytes(big) / UNIT
    const cache = new L1Cache(l1EntryBytes(big) + UNIT, () => T0)
    cache.set(big)
    read(cache, 'b', Math.ceil(2 * ratio)) // (hits + 1) per byte above the small one's 2 / UNIT
    cache.set(entry('s'))
    read(cache, 's', 1)
    cache.set(entry('n'))
    expect(ids(cache)).toEqual(['n', 'b'])
  })

  it('an expired entry in the sample goes first, whatever its reads and size', () => {
    let now = T0
    const cache = cacheOf(3, () => now, UNIT2)
    cache.set(entry('f1'))
    cache.set(entry('st', 100, 1, T0 + 10))
    read(cache, 'st', 10)
    cache.set(entry('f2'))
    read(cache, 'f1', 1)
    read(cache, 'f2', 1)
    now = T0 + 10
    // Without expiry st (10 reads) would outlive f1 (1 read), the least recent after it.
    cache.set(entry('nw'))
    expect(ids(cache)).toEqual(['nw', 'f2', 'f1'])
  })

  it('ageing: read counts halve with each turnover, so popularity that stopped fades', () => {
    const cache = cacheOf(2, () => T0, UNIT2)
    cache.set(entry('ho'))
    read(cache, 'ho', 15) // the saturation point
    cache.set(entry('x1'))
    read(cache, 'x1', 1)
    // Each newcomer evicts one entry, a full turnover of what is left (one entry), so ho's count
    // goes 15 → 7 → 3 → 1, against a newcomer's single read.
    for (let i = 2; i <= 4; i++) {
      cache.set(entry(`x${i}`))
      read(cache, `x${i}`, 1)
      expect(cache.peek('ho')).toBeDefined()
      expect(cache.peek(`x${i - 1}`)).toBeUndefined()
    }
    // ho (1 read left) and x4 (1 read) are now worth the same: the less recent, ho, goes.
    cache.set(entry('x5'))
    expect(ids(cache)).toEqual(['x5', 'x4'])
  })
})

describe('L1Cache.shrinkTo', () => {
  it('evicts by the policy down to the bytes given, keeps the budget, and returns how many went', () => {
    const cache = cacheOf(10)
    for (const id of ['a', 'b', 'c', 'd', 'e']) cache.set(entry(id))
    read(cache, 'a', 3)
    read(cache, 'e', 1)
    expect(cache.shrinkTo(2 * UNIT)).toBe(3)
    // b, c, d (never read) go; a (read 3 times) and e stay.
    expect(ids(cache)).toEqual(['e', 'a'])
    expect(cache.bytes).toBe(2 * UNIT)
    expect(cache.maxBytes).toBe(10 * UNIT)
    expect(cache.evictions).toBe(3)
    // The budget is unchanged: reads may fill L1 up again.
    for (const id of ['f', 'g', 'h']) cache.set(entry(id))
    expect(cache.count).toBe(5)
  })

  it('rounds nothing: it stops at or below the bytes given', () => {
    const cache = cacheOf(10)
    for (const id of ['a', 'b', 'c']) cache.set(entry(id))
    expect(cache.shrinkTo(2 * UNIT - 1)).toBe(2)
    expect(cache.bytes).toBe(UNIT)
  })

  it('is a no-op at or above the bytes held, empties L1 at 0, and refuses a negative or NaN size', () => {
    const cache = cacheOf(10)
    for (const id of ['a', 'b']) cache.set(entry(id))
    expect(cache.shrinkTo(2 * UNIT)).toBe(0)
    expect(cache.shrinkTo(Number.POSITIVE_INFINITY)).toBe(0)
    expect(cache.count).toBe(2)
    expect(() => cache.shrinkTo(-1)).toThrow(InvalidArgumentError)
    expect(() => cache.shrinkTo(Number.NaN)).toThrow(InvalidArgumentError)
    expect(cache.shrinkTo(0)).toBe(2)
    expect(cache.count).toBe(0)
    expect(cache.bytes).toBe(0)
  })
})

describe('L1Cache budget', () => {
  it('refuses a budget that is not a whole number of bytes > 0', () => {
    expect(() => new L1Cache(0, () => T0)).toThrow(InvalidArgumentError)
    expect(() => new L1Cache(1.5, () => T0)).toThrow(InvalidArgumentError)
    expect(() => cacheOf(1).resize(-5)).toThrow(InvalidArgumentError)
  })
})
