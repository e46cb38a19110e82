import {
  HybridLogicalClock,
  InvalidArgumentError,
  LOGICAL_PER_MS,
  versionTimeMs,
} from '@sync-engine/core/internal'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

const T0 = 1_700_000_000_000

/** A wall clock a test sets by hand. */
function manualClock(start = T0) {
  let now = start
  return {
    read: () => now,
    set: (ms: number) => {
      now = ms
    },
  }
}

describe('HybridLogicalClock', () => {
  it('issues wall-clock ms × 1000 when the wall clock moves forward', () => {
    const wall = manualClock()
    const clock = new HybridLogicalClock(wall.read)
    expect(clock.next()).toBe(T0 * LOGICAL_PER_MS)
    wall.set(T0 + 5)
    expect(clock.next()).toBe((T0 + 5) * LOGICAL_PER_MS)
    expect(versionTimeMs(clock.last)).toBe(T0 + 5)
  })

  it('is strictly increasing while the wall clock stands still', () => {
    const clock = new HybridLogicalClock(() => T0)
    const versions = Array.from({ length: 2500 }, () => clock.next())
    for (let i = 1; i < versions.length; i++) expect(versions[i]!).toBeGreaterThan(versions[i - 1]!)
    // More than LOGICAL_PER_MS versions in one ms spill into the next ms' range rather than repeat.
    expect(versions.at(-1)).toBe(T0 * LOGICAL_PER_MS + 2499)
  })

  it('is strictly increasing when the wall clock goes backwards', () => {
    const wall = manualClock()
    const clock = new HybridLogicalClock(wall.read)
    const a = clock.next()
    wall.set(T0 - 60_000)
    const b = clock.next()
    const c = clock.next()
    wall.set(T0 - 3_600_000)
    const d = clock.next()
    expect(b).toBeGreaterThan(a)
    expect(c).toBeGreaterThan(b)
    expect(d).toBeGreaterThan(c)
    // …and picks up the wall clock again once it is ahead.
    wall.set(T0 + 1)
    expect(clock.next()).toBe((T0 + 1) * LOGICAL_PER_MS)
  })

  it('floors a fractional wall clock (performance.now style) to whole ms', () => {
    const clock = new HybridLogicalClock(() => T0 + 0.75)
    const v = clock.next()
    expect(Number.isSafeInteger(v)).toBe(true)
    expect(v).toBe(T0 * LOGICAL_PER_MS)
  })

  it('observe() pushes later versions above the observed one', () => {
    const clock = new HybridLogicalClock(() => T0)
    const observed = (T0 + 86_400_000) * LOGICAL_PER_MS + 17
    clock.observe(observed)
    expect(clock.last).toBe(observed)
    expect(clock.next()).toBe(observed + 1)
    expect(clock.next()).toBe(observed + 2)
  })

  it('observe() of an older version changes nothing', () => {
    const clock = new HybridLogicalClock(() => T0)
    const v = clock.next()
    clock.observe(5)
    expect(clock.next()).toBe(v + 1)
  })

  it('observe() rejects a negative or non-integer version with InvalidArgumentError', () => {
    const clock = new HybridLogicalClock(() => T0)
    expect(() => clock.observe(-1)).toThrow(InvalidArgumentError)
    expect(() => clock.observe(1.5)).toThrow(InvalidArgumentError)
    expect(() => clock.observe(2 ** 53)).toThrow(InvalidArgumentError)
    expect(() => clock.observe(0)).not.toThrow()
  })

  it('never issues an unsafe integer: after observing MAX_SAFE_INTEGER, next() throws a typed error', () => {
    const clock = new HybridLogicalClock(() => T0)
    clock.observe(Number.MAX_SAFE_INTEGER)
    // 2^53 + 1 rounds to 2^53 in a double, so an unguarded clock would repeat a version here.
    expect(() => clock.next()).toThrow(InvalidArgumentError)
    expect(clock.last).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('never issues an unsafe integer from a wall clock beyond the packed range', () => {
    const clock = new HybridLogicalClock(() => 10_000_000_000_000) // year 2286
    expect(() => clock.next()).toThrow(InvalidArgumentError)
  })
})

type ClockOp =
  | { kind: 'next' }
  | { kind: 'observe'; version: number }
  | { kind: 'move'; deltaMs: number }
  | { kind: 'stand' }

const clockOp: fc.Arbitrary<ClockOp> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: 'next' } as const) },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: -5_000_000, max: 5_000_000 })
      .map((offset) => ({ kind: 'observe', version: T0 * LOGICAL_PER_MS + offset }) as const),
  },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: -10_000, max: 10_000 })
      .map((deltaMs) => ({ kind: 'move', deltaMs }) as const),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'stand' } as const) },
)

describe('HybridLogicalClock properties', () => {
  it('any interleaving of next/observe/clock moves gives a strictly increasing next() sequence above every observed value', () => {
    fc.assert(
      fc.property(fc.array(clockOp, { maxLength: 200 }), (ops) => {
        let wall = T0
        const clock = new HybridLogicalClock(() => wall)
        let lastIssued = -1
        let highestObserved = -1
        for (const op of ops) {
          switch (op.kind) {
            case 'next': {
              const v = clock.next()
              expect(Number.isSafeInteger(v)).toBe(true)
              expect(v).toBeGreaterThan(lastIssued)
              expect(v).toBeGreaterThan(highestObserved)
              // Never behind the wall clock either.
              expect(v).toBeGreaterThanOrEqual(Math.floor(wall) * LOGICAL_PER_MS)
              lastIssued = v
              break
            }
            case 'observe':
              clock.observe(op.version)
              highestObserved = Math.max(highestObserved, op.version)
              break
            case 'move':
              wall += op.deltaMs
              break
            case 'stand':
              break
          }
        }
      }),
      { numRuns: 300 },
    )
  })
})
