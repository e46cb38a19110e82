import { L1_EVICTION, L1Cache, type L1Entry, l1EntryBytes, SyncItem } from '@sync-engine/core/internal'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

const T0 = 1_700_000_000_000

function itemEntry(id: string, version: number, contentBytes = 100, expiresAt = 0): L1Entry {
  const item = SyncItem.fromBinary(id, new Uint8Array(contentBytes).fill(version & 0xff)).withVersion(
    version,
    0,
  )
  return { id, item, version, expiresAt }
}

function tombstoneEntry(id: string, version: number, expiresAt = 0): L1Entry {
  return { id, item: null, version, expiresAt }
}

function manualClock() {
  let now = T0
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms
    },
  }
}

function sumOfEntries(cache: L1Cache): number {
  let total = 0
  for (const entry of cache.entries()) total += l1EntryBytes(entry)
  return total
}

describe('l1EntryBytes', () => {
  it('charges an item its footprint (content + strings + fixed overhead)', () => {
    const entry = itemEntry('abc', 1, 1000)
    expect(l1EntryBytes(entry)).toBe(entry.item!.footprintBytes)
    expect(l1EntryBytes(entry)).toBeGreaterThan(1000)
    expect(l1EntryBytes(itemEntry('abc', 1, 2000)) - l1EntryBytes(entry)).toBe(1000)
  })

  it('charges a tombstone by its id length', () => {
    expect(l1EntryBytes(tombstoneEntry('abcd', 1)) - l1EntryBytes(tombstoneEntry('ab', 1))).toBe(4)
  })
})

describe('L1Cache', () => {
  it('returns what was set and accounts its bytes', () => {
    const clock = manualClock()
    const cache = new L1Cache(10_000, clock.now)
    const a = itemEntry('a', 1)
    const b = tombstoneEntry('b', 2)
    expect(cache.set(a)).toBe(true)
    expect(cache.set(b)).toBe(true)
    expect(cache.get('a')).toBe(a)
    expect(cache.get('b')).toBe(b)
    expect(cache.count).toBe(2)
    expect(cache.bytes).toBe(l1EntryBytes(a) + l1EntryBytes(b))
    expect(cache.delete('a')).toBe(true)
    expect(cache.get('a')).toBeUndefined()
    expect(cache.bytes).toBe(l1EntryBytes(b))
    expect(cache.delete('a')).toBe(false)
  })

  it('version guard: an older or equal version does not replace the held one; a newer one does', () => {
    const cache = new L1Cache(10_000, manualClock().now)
    const v5 = itemEntry('a', 5, 100)
    cache.set(v5)
    expect(cache.set(itemEntry('a', 4, 300))).toBe(false)
    expect(cache.set(tombstoneEntry('a', 3))).toBe(false)
    // Equal versions: the first writer wins, as in the write queue and in L3's upsert guard.
    expect(cache.set(itemEntry('a', 5, 300))).toBe(false)
    expect(cache.get('a')).toBe(v5)
    expect(cache.bytes).toBe(l1EntryBytes(v5))
    const v6 = tombstoneEntry('a', 6)
    expect(cache.set(v6)).toBe(true)
    expect(cache.get('a')).toBe(v6)
    expect(cache.bytes).toBe(l1EntryBytes(v6))
  })

  it('TTL: an entry is served before expiresAt and dropped (bytes released) from expiresAt on', () => {
    const clock = manualClock()
    const cache = new L1Cache(10_000, clock.now)
    const a = itemEntry('a', 1, 100, T0 + 1000)
    cache.set(a)
    clock.advance(999)
    expect(cache.get('a')).toBe(a)
    clock.advance(1)
    expect(cache.get('a')).toBeUndefined()
    expect(cache.count).toBe(0)
    expect(cache.bytes).toBe(0)
  })

  it('TTL: peek honours expiry too, and an expired entry no longer guards its version', () => {
    const clock = manualClock()
    const cache = new L1Cache(10_000, clock.now)
    cache.set(itemEntry('a', 9, 100, T0 + 10))
    clock.advance(10)
    expect(cache.peek('a')).toBeUndefined()
    cache.set(itemEntry('a', 9, 100, T0 + 10))
    const older = itemEntry('a', 2)
    expect(cache.set(older)).toBe(true)
    expect(cache.get('a')).toBe(older)
  })

  it('an entry without expiry (0) lives until evicted', () => {
    const clock = manualClock()
    const cache = new L1Cache(10_000, clock.now)
    const a = itemEntry('a', 1)
    cache.set(a)
    clock.advance(10 * 365 * 86_400_000)
    expect(cache.get('a')).toBe(a)
  })

  it('among entries of one size read as often, evicts the least recently used; get counts as a use, peek does not', () => {
    const cache = new L1Cache(3 * l1EntryBytes(itemEntry('a', 1)), manualClock().now)
    cache.set(itemEntry('a', 1))
    cache.set(itemEntry('b', 1))
    cache.set(itemEntry('c', 1))
    cache.get('a') // a is now the most recent; b the least
    cache.peek('b') // does not save b
    cache.set(itemEntry('d', 1))
    expect(cache.peek('b')).toBeUndefined()
    expect([...cache.entries()].map((e) => e.id)).toEqual(['d', 'a', 'c'])
    expect(cache.evictions).toBe(1)
    expect(cache.bytes).toBe(sumOfEntries(cache))
  })

  it('evicts as many entries as a large newcomer needs', () => {
    const small = itemEntry('s1', 1, 100)
    const budget = 4 * l1EntryBytes(small)
    const cache = new L1Cache(budget, manualClock().now)
    for (const id of ['s1', 's2', 's3', 's4']) cache.set(itemEntry(id, 1, 100))
    // Needs more than two small entries' worth of room, less than three.
    const big = itemEntry('big', 1, 2 * l1EntryBytes(small))
    expect(l1EntryBytes(big)).toBeGreaterThan(2 * l1EntryBytes(small))
    expect(l1EntryBytes(big)).toBeLessThan(3 * l1EntryBytes(small))
    expect(cache.set(big)).toBe(true)
    expect([...cache.entries()].map((e) => e.id)).toEqual(['big', 's4'])
    expect(cache.evictions).toBe(3)
    expect(cache.bytes).toBeLessThanOrEqual(budget)
    expect(cache.bytes).toBe(sumOfEntries(cache))
  })

  it('does not store an entry bigger than the whole budget, and drops the older entry of that id', () => {
    const cache = new L1Cache(2000, manualClock().now)
    const keep = itemEntry('keep', 1, 100)
    cache.set(keep)
    cache.set(itemEntry('a', 1, 100))
    expect(cache.set(itemEntry('a', 2, 5000))).toBe(false)
    expect(cache.get('a')).toBeUndefined()
    expect(cache.get('keep')).toBe(keep)
    expect(cache.bytes).toBe(l1EntryBytes(keep))
  })

  it('replaceIfPresent (write-around) replaces only an older held version and admits nothing new', () => {
    const cache = new L1Cache(10_000, manualClock().now)
    expect(cache.replaceIfPresent(itemEntry('a', 2))).toBe(false)
    expect(cache.count).toBe(0)
    cache.set(itemEntry('a', 2))
    expect(cache.replaceIfPresent(itemEntry('a', 1))).toBe(false)
    expect(cache.get('a')?.version).toBe(2)
    expect(cache.replaceIfPresent(tombstoneEntry('a', 3))).toBe(true)
    expect(cache.get('a')).toMatchObject({ version: 3, item: null })
    expect(cache.bytes).toBe(sumOfEntries(cache))
  })

  it('deleteIfVersion drops only the exact version', () => {
    const cache = new L1Cache(10_000, manualClock().now)
    const a = itemEntry('a', 5)
    cache.set(a)
    expect(cache.deleteIfVersion('a', 4)).toBe(false)
    expect(cache.deleteIfVersion('a', 6)).toBe(false)
    expect(cache.get('a')).toBe(a)
    expect(cache.deleteIfVersion('a', 5)).toBe(true)
    expect(cache.get('a')).toBeUndefined()
    expect(cache.bytes).toBe(0)
    expect(cache.deleteIfVersion('missing', 1)).toBe(false)
  })

  it('resize evicts by the policy down to a smaller budget (here: the least recent of equals)', () => {
    const unit = l1EntryBytes(itemEntry('a', 1))
    const cache = new L1Cache(10 * unit, manualClock().now)
    for (const id of ['a', 'b', 'c', 'd']) cache.set(itemEntry(id, 1))
    cache.get('a')
    cache.resize(2 * unit)
    expect([...cache.entries()].map((e) => e.id)).toEqual(['a', 'd'])
    expect(cache.maxBytes).toBe(2 * unit)
    expect(cache.bytes).toBe(2 * unit)
    cache.resize(10 * unit)
    expect([...cache.entries()].map((e) => e.id)).toEqual(['a', 'd'])
    cache.set(itemEntry('e', 1))
    expect(cache.count).toBe(3)
  })

  it('clear empties the cache and its accounting', () => {
    const cache = new L1Cache(10_000, manualClock().now)
    cache.set(itemEntry('a', 1))
    cache.clear()
    expect(cache.count).toBe(0)
    expect(cache.bytes).toBe(0)
    expect(cache.get('a')).toBeUndefined()
  })
})

// ── property: L1Cache against a model of its eviction policy ───────────────────────────────────

type Op =
  | { kind: 'set'; id: string; version: number; tombstone: boolean; content: number; ttl: number }
  | { kind: 'replaceIfPresent'; id: string; version: number; content: number }
  | { kind: 'get'; id: string }
  | { kind: 'peek'; id: string }
  | { kind: 'delete'; id: string }
  | { kind: 'deleteIfVersion'; id: string; version: number }
  | { kind: 'resize'; maxBytes: number }
  | { kind: 'shrinkTo'; bytes: number }
  | { kind: 'advance'; ms: number }

// More ids than the sample, so entries outside the sample (protected by recency) exist.
const ids = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'ff', 'g', 'hh', 'i')
const versions = fc.integer({ min: 1, max: 8 })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      id: ids,
      version: versions,
      tombstone: fc.boolean(),
      content: fc.integer({ min: 0, max: 900 }),
      ttl: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('replaceIfPresent' as const),
      id: ids,
      version: versions,
      content: fc.integer({ min: 0, max: 900 }),
    }),
  },
  // Reads weigh most: frequency is what the policy adds to recency.
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('get' as const), id: ids }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('peek' as const), id: ids }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: ids }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('deleteIfVersion' as const), id: ids, version: versions }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('resize' as const),
      maxBytes: fc.integer({ min: 200, max: 3000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('shrinkTo' as const),
      bytes: fc.integer({ min: 0, max: 3000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 30 }) }),
  },
)

interface ModelNode {
  entry: L1Entry
  hits: number
}

/**
 * The policy written out plainly: `order` is least recent first; a victim is the first expired
 * entry among the `sampleSize` least recent, else the one of them with the lowest
 * (hits + 1) / bytes, the least recent on ties; read counts saturate at `maxHits` and all halve
 * (eagerly here, lazily in L1Cache) whenever evictions since the last halving reach the count held.
 */
class ModelL1 {
  order: ModelNode[] = []
  evictions = 0
  #sinceHalving = 0
  constructor(
    public maxBytes: number,
    private readonly now: () => number,
  ) {}
  get bytes() {
    return this.order.reduce((sum, n) => sum + l1EntryBytes(n.entry), 0)
  }
  #index(id: string) {
    return this.order.findIndex((n) => n.entry.id === id)
  }
  #expired(e: L1Entry) {
    return e.expiresAt !== 0 && this.now() >= e.expiresAt
  }
  #remove(id: string): boolean {
    const i = this.#index(id)
    if (i < 0) return false
    this.order.splice(i, 1)
    return true
  }
  #evictOne() {
    const sample = this.order.slice(0, L1_EVICTION.sampleSize)
    const worth = (n: ModelNode) => (n.hits + 1) / l1EntryBytes(n.entry)
    let victim = sample.find((n) => this.#expired(n.entry))
    if (victim === undefined) {
      for (const n of sample) if (victim === undefined || worth(n) < worth(victim)) victim = n
    }
    this.#remove(victim!.entry.id)
    this.evictions++
    if (++this.#sinceHalving >= Math.max(1, this.order.length)) {
      for (const n of this.order) n.hits >>= 1
      this.#sinceHalving = 0
    }
  }
  #evictDownTo(limit: number) {
    while (this.bytes > limit) this.#evictOne()
  }
  get(id: string): L1Entry | undefined {
    const i = this.#index(id)
    if (i < 0) return undefined
    const [node] = this.order.splice(i, 1)
    if (this.#expired(node!.entry)) return undefined
    node!.hits = Math.min(L1_EVICTION.maxHits, node!.hits + 1)
    this.order.push(node!)
    return node!.entry
  }
  #peekNode(id: string): ModelNode | undefined {
    const node = this.order[this.#index(id)]
    if (node === undefined) return undefined
    if (this.#expired(node.entry)) {
      this.#remove(id)
      return undefined
    }
    return node
  }
  peek(id: string): L1Entry | undefined {
    return this.#peekNode(id)?.entry
  }
  set(entry: L1Entry): boolean {
    const current = this.#peekNode(entry.id)
    if (current !== undefined && current.entry.version >= entry.version) return false
    const size = l1EntryBytes(entry)
    this.#remove(entry.id)
    if (size > this.maxBytes) return false
    this.#evictDownTo(this.maxBytes - size)
    this.order.push({ entry, hits: current?.hits ?? 0 })
    return true
  }
  replaceIfPresent(entry: L1Entry): boolean {
    // Like L1Cache: the held entry is looked at even if expired (set then drops it).
    const current = this.order[this.#index(entry.id)]
    if (current === undefined || current.entry.version >= entry.version) return false
    return this.set(entry)
  }
  delete(id: string) {
    return this.#remove(id)
  }
  deleteIfVersion(id: string, version: number) {
    const node = this.order[this.#index(id)]
    if (node === undefined || node.entry.version !== version) return false
    return this.#remove(id)
  }
  resize(maxBytes: number) {
    this.maxBytes = maxBytes
    this.#evictDownTo(maxBytes)
  }
  shrinkTo(bytes: number): number {
    const before = this.evictions
    this.#evictDownTo(bytes)
    return this.evictions - before
  }
}

describe('L1Cache properties', () => {
  it('byte accounting is exact after every operation, within budget, and the cache evicts like the model of its policy', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 600, max: 2500 }),
        fc.array(opArb, { maxLength: 150, size: 'max' }),
        (budget, ops) => {
          const clock = manualClock()
          const cache = new L1Cache(budget, clock.now)
          const model = new ModelL1(budget, clock.now)
          for (const op of ops) {
            switch (op.kind) {
              case 'set': {
                const expiresAt = op.ttl === 0 ? 0 : clock.now() + op.ttl
                const entry = op.tombstone
                  ? tombstoneEntry(op.id, op.version, expiresAt)
                  : itemEntry(op.id, op.version, op.content, expiresAt)
                expect(cache.set(entry)).toBe(model.set(entry))
                break
              }
              case 'replaceIfPresent': {
                const entry = itemEntry(op.id, op.version, op.content)
                expect(cache.replaceIfPresent(entry)).toBe(model.replaceIfPresent(entry))
                break
              }
              case 'get': {
                const got = cache.get(op.id)
                expect(got).toBe(model.get(op.id))
                if (got !== undefined) expect(got.expiresAt === 0 || got.expiresAt > clock.now()).toBe(true)
                break
              }
              case 'peek':
                expect(cache.peek(op.id)).toBe(model.peek(op.id))
                break
              case 'delete':
                expect(cache.delete(op.id)).toBe(model.delete(op.id))
                break
              case 'deleteIfVersion':
                expect(cache.deleteIfVersion(op.id, op.version)).toBe(
                  model.deleteIfVersion(op.id, op.version),
                )
                break
              case 'resize':
                cache.resize(op.maxBytes)
                model.resize(op.maxBytes)
                break
              case 'shrinkTo':
                expect(cache.shrinkTo(op.bytes)).toBe(model.shrinkTo(op.bytes))
                expect(cache.bytes).toBeLessThanOrEqual(op.bytes)
                break
              case 'advance':
                clock.advance(op.ms)
                break
            }
            const entries = [...cache.entries()]
            expect(cache.bytes).toBe(entries.reduce((sum, e) => sum + l1EntryBytes(e), 0))
            expect(cache.bytes).toBeLessThanOrEqual(cache.maxBytes)
            expect(cache.count).toBe(entries.length)
            // Same entries, most recent first.
            expect(entries).toEqual(model.order.map((n) => n.entry).reverse())
            expect(cache.evictions).toBe(model.evictions)
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})
