import {
  Backpressure,
  BackpressureError,
  ConfigError,
  DEFAULT_BACKPRESSURE_OPTIONS,
  InvalidArgumentError,
  L1Cache,
  l1EntryBytes,
  type PressureInputs,
  resolveBackpressureOptions,
  SyncItem,
} from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'

const MiB = 1024 * 1024
const BUDGET = 1000

/** Fills as ratios of a 1000-byte budget (700 / 1000 is exactly the double 0.7, so thresholds are hit exactly). */
function fills(ratios: { l1?: number; queue?: number; log?: number }): PressureInputs {
  const fill = (ratio: number | undefined) =>
    ratio === undefined ? undefined : { bytes: Math.round(ratio * BUDGET), budget: BUDGET }
  return { l1: fill(ratios.l1), queue: fill(ratios.queue), log: fill(ratios.log) }
}

function at(queue: number, bp = new Backpressure()) {
  bp.update(fills({ queue }))
  return bp
}

function refusal(run: () => unknown): BackpressureError {
  try {
    run()
  } catch (error) {
    if (error instanceof BackpressureError) return error
    throw error
  }
  throw new Error('expected a BackpressureError')
}

describe('backpressure options', () => {
  it('defaults: warn 0.70, throttle 0.80, critical 0.90, emergency 0.97, hysteresis 0.05, 1–50 ms', () => {
    expect(resolveBackpressureOptions()).toEqual(DEFAULT_BACKPRESSURE_OPTIONS)
    expect(DEFAULT_BACKPRESSURE_OPTIONS).toMatchObject({
      warn: 0.7,
      throttle: 0.8,
      critical: 0.9,
      emergency: 0.97,
      hysteresis: 0.05,
      minDelayMs: 1,
      maxDelayMs: 50,
    })
    expect(new Backpressure({ warn: 0.5 }).options).toEqual({ ...DEFAULT_BACKPRESSURE_OPTIONS, warn: 0.5 })
  })

  it('refuses thresholds out of order, naming every field at fault', () => {
    let error: unknown
    try {
      resolveBackpressureOptions({ throttle: 0.6, emergency: 0.9 })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).fields).toEqual(['throttle', 'emergency'])
    expect((error as ConfigError).message).toMatch(/backpressure\.throttle must be a ratio > warn/)
    expect((error as ConfigError).message).toMatch(/backpressure\.emergency must be a ratio > critical/)
  })

  it.each([
    [{ warn: 0 }, 'warn'],
    [{ warn: Number.NaN }, 'warn'],
    [{ critical: Number.POSITIVE_INFINITY }, 'critical'],
    [{ hysteresis: -0.01 }, 'hysteresis'],
    // A hysteresis of warn or more would never let the level back to normal.
    [{ hysteresis: 0.7 }, 'hysteresis'],
    [{ minDelayMs: -1 }, 'minDelayMs'],
    [{ maxDelayMs: 0 }, 'maxDelayMs'],
    [{ retryAfterMs: 0 }, 'retryAfterMs'],
    [{ l1Floor: 1.5 }, 'l1Floor'],
  ])('refuses %o', (input, field) => {
    expect(() => new Backpressure(input)).toThrow(ConfigError)
    expect(() => resolveBackpressureOptions(input)).toThrow(new RegExp(`backpressure\\.${field} must be`))
  })

  it('accepts thresholds above 1 (the queue budget is defended, not a hard cap)', () => {
    const bp = new Backpressure({ critical: 1.2, emergency: 1.5 })
    expect(bp.update(fills({ queue: 1.1 }))).toBe('throttle')
    expect(bp.update(fills({ queue: 1.5 }))).toBe('emergency')
  })
})

describe('backpressure levels', () => {
  it('starts at normal, with no input at all too', () => {
    const bp = new Backpressure()
    expect(bp.level).toBe('normal')
    expect(bp.update({})).toBe('normal')
    expect(bp.snapshot()).toMatchObject({ level: 'normal', driver: undefined, fill: 0 })
  })

  it.each([
    [0, 'normal'],
    [0.699, 'normal'],
    [0.7, 'warn'],
    [0.799, 'warn'],
    [0.8, 'throttle'],
    [0.899, 'throttle'],
    [0.9, 'critical'],
    [0.969, 'critical'],
    [0.97, 'emergency'],
    [1.5, 'emergency'],
  ])('from normal, a fill of %d is %s (a threshold belongs to its level)', (fill, level) => {
    expect(at(fill).level).toBe(level)
  })

  it('the fuller of the queue and the log sets the level, and is named as the driver', () => {
    const bp = new Backpressure()
    expect(bp.update(fills({ queue: 0.5, log: 0.85 }))).toBe('throttle')
    expect(bp.snapshot()).toMatchObject({ driver: 'log', fill: 0.85, fills: { queue: 0.5, log: 0.85 } })
    expect(bp.update(fills({ queue: 0.95, log: 0.85 }))).toBe('critical')
    expect(bp.snapshot().driver).toBe('queue')
    // An absent input does not count.
    expect(bp.update(fills({ queue: 0.95 }))).toBe('critical')
    expect(bp.snapshot().fills).toEqual({ queue: 0.95 })
  })

  it('a full L1 is no pressure (it evicts); an L1 over its budget counts as warn, never more', () => {
    const bp = new Backpressure()
    expect(bp.update(fills({ l1: 1, queue: 0.1 }))).toBe('normal')
    expect(bp.snapshot().driver).toBe('queue')
    expect(bp.update(fills({ l1: 1.01, queue: 0.1 }))).toBe('warn')
    expect(bp.snapshot().driver).toBe('l1')
    expect(bp.update(fills({ l1: 50 }))).toBe('warn')
    expect(bp.update(fills({ l1: 50, queue: 0.85 }))).toBe('throttle')
    expect(bp.snapshot().driver).toBe('queue')
    expect(bp.update(fills({ l1: 0.9 }))).toBe('normal')
  })

  it('refuses a fill that is not a number of bytes >= 0 against a budget > 0', () => {
    const bp = new Backpressure()
    expect(() => bp.update({ queue: { bytes: -1, budget: 10 } })).toThrow(InvalidArgumentError)
    expect(() => bp.update({ log: { bytes: Number.NaN, budget: 10 } })).toThrow(/log\.bytes/)
    expect(() => bp.update({ l1: { bytes: 1, budget: 0 } })).toThrow(/l1\.budget/)
    expect(bp.level).toBe('normal')
  })
})

describe('backpressure hysteresis', () => {
  it('rises at once, and drops a level only below its threshold minus 0.05', () => {
    const bp = at(0.8)
    expect(bp.level).toBe('throttle')
    expect(bp.update(fills({ queue: 0.79 }))).toBe('throttle')
    expect(bp.update(fills({ queue: 0.751 }))).toBe('throttle')
    expect(bp.update(fills({ queue: 0.749 }))).toBe('warn')
    expect(bp.update(fills({ queue: 0.7 }))).toBe('warn')
    expect(bp.update(fills({ queue: 0.651 }))).toBe('warn')
    expect(bp.update(fills({ queue: 0.649 }))).toBe('normal')
  })

  it('a fill wobbling across a threshold changes the level once, not on every update', () => {
    const bp = new Backpressure()
    const changes: string[] = []
    bp.onChange((level, previous) => changes.push(`${previous}→${level}`))
    for (let i = 0; i < 20; i++) bp.update(fills({ queue: i % 2 === 0 ? 0.81 : 0.79 }))
    expect(changes).toEqual(['normal→throttle'])
  })

  it('drops as many levels as the fill has fallen below, at once', () => {
    const bp = at(0.99)
    expect(bp.level).toBe('emergency')
    // Below emergency's and critical's exits (0.92, 0.85), not below throttle's (0.75).
    expect(bp.update(fills({ queue: 0.78 }))).toBe('throttle')
    expect(at(0.99).update(fills({ queue: 0 }))).toBe('normal')
    expect(at(0.95).update(fills({ queue: 0.93 }))).toBe('critical')
  })
})

describe('backpressure effects (admit)', () => {
  it('normal and warn: no delay', () => {
    expect(at(0.1).admit({ cacheOnly: false })).toEqual({ delayMs: 0 })
    expect(at(0.75).admit({ cacheOnly: true })).toEqual({ delayMs: 0 })
  })

  it('throttle: a delay from minDelayMs at the threshold, growing with the fill towards maxDelayMs', () => {
    const delay = (fill: number) => at(fill).admit({ cacheOnly: false }).delayMs
    expect(delay(0.8)).toBe(1)
    expect(delay(0.85)).toBeGreaterThan(20)
    expect(delay(0.85)).toBeLessThan(30)
    expect(delay(0.899)).toBe(50)
    let previous = 0
    for (let fill = 0.8; fill < 0.9; fill += 0.005) {
      expect(delay(fill)).toBeGreaterThanOrEqual(previous)
      previous = delay(fill)
    }
    // Held at throttle by hysteresis below its threshold: the least delay, not none.
    const held = at(0.85)
    held.update(fills({ queue: 0.76 }))
    expect(held.level).toBe('throttle')
    expect(held.admit({ cacheOnly: true }).delayMs).toBe(1)
    expect(at(0.8, new Backpressure({ minDelayMs: 10, maxDelayMs: 20 })).admit({ cacheOnly: false })).toEqual(
      {
        delayMs: 10,
      },
    )
  })

  it('critical: cache-only writes are refused (503, retry after), others wait maxDelayMs', () => {
    const bp = at(0.92)
    expect(bp.level).toBe('critical')
    expect(bp.admit({ cacheOnly: false })).toEqual({ delayMs: 50 })
    const error = refusal(() => bp.admit({ cacheOnly: true }))
    expect(error).toMatchObject({ level: 'critical', retryAfterMs: 1000, status: 503, code: 'BACKPRESSURE' })
    expect(error.retryable).toBe(true)
    expect(error.message).toMatch(/queue at 92 % of its budget/)
    expect(error.message).toMatch(/cache-only writes are refused/)
  })

  it('emergency: every write is refused, with the configured retry-after', () => {
    const bp = at(0.98, new Backpressure({ retryAfterMs: 2500 }))
    for (const cacheOnly of [false, true]) {
      const error = refusal(() => bp.admit({ cacheOnly }))
      expect(error).toMatchObject({ level: 'emergency', retryAfterMs: 2500 })
      expect(error.message).toMatch(/writes are refused/)
    }
  })

  it('counts the writes it delayed and refused', () => {
    const bp = at(0.85)
    bp.admit({ cacheOnly: false })
    bp.update(fills({ queue: 0.93 }))
    bp.admit({ cacheOnly: false })
    expect(() => bp.admit({ cacheOnly: true })).toThrow(BackpressureError)
    bp.update(fills({ queue: 0.1 }))
    bp.admit({ cacheOnly: true })
    expect(bp.snapshot()).toMatchObject({ delayed: 2, refused: 1, changes: 3, level: 'normal' })
  })
})

describe('backpressure evict effect (l1ShrinkTarget)', () => {
  const l1 = { bytes: 256 * MiB, budget: 256 * MiB }

  it('none below warn, none without an L1 input', () => {
    const bp = new Backpressure()
    bp.update({ l1, queue: { bytes: 40 * MiB, budget: 64 * MiB } })
    expect(bp.level).toBe('normal')
    expect(bp.l1ShrinkTarget()).toBeUndefined()
    bp.update({ queue: { bytes: 50 * MiB, budget: 64 * MiB } })
    expect(bp.level).toBe('warn')
    expect(bp.l1ShrinkTarget()).toBeUndefined()
  })

  it('from warn on, L1 gives back what the queue holds, down to l1Floor of its budget', () => {
    const bp = new Backpressure()
    bp.update({ l1, queue: { bytes: 48 * MiB, budget: 64 * MiB } })
    expect(bp.level).toBe('warn')
    expect(bp.l1ShrinkTarget()).toBe(208 * MiB)
    expect(bp.snapshot().l1ShrinkTarget).toBe(208 * MiB)
    // A queue bigger than half of L1's budget: L1 keeps its floor (0.5), not nothing.
    bp.update({ l1, queue: { bytes: 200 * MiB, budget: 210 * MiB } })
    expect(bp.level).toBe('critical')
    expect(bp.l1ShrinkTarget()).toBe(128 * MiB)
    // Driven by the log, with little queued: L1 gives back little.
    bp.update({ l1, queue: { bytes: 1 * MiB, budget: 64 * MiB }, log: { bytes: 95, budget: 100 } })
    expect(bp.l1ShrinkTarget()).toBe(255 * MiB)
  })

  it('none when L1 already fits the target', () => {
    const bp = new Backpressure()
    bp.update({ l1: { bytes: 100 * MiB, budget: 256 * MiB }, queue: { bytes: 48 * MiB, budget: 64 * MiB } })
    expect(bp.level).toBe('warn')
    expect(bp.l1ShrinkTarget()).toBeUndefined()
  })

  it('is what L1Cache.shrinkTo takes: L1 ends at or below the target', () => {
    const make = (id: string) => ({
      id,
      item: SyncItem.fromBinary(id, new Uint8Array(1000)).withVersion(1, 0),
      version: 1,
      expiresAt: 0,
    })
    const unit = l1EntryBytes(make('k00'))
    const cache = new L1Cache(20 * unit, () => 0)
    for (let i = 0; i < 20; i++) cache.set(make(`k${String(i).padStart(2, '0')}`))
    const bp = new Backpressure()
    bp.update({
      l1: { bytes: cache.bytes, budget: cache.maxBytes },
      queue: { bytes: 5 * unit, budget: 6 * unit },
    })
    const target = bp.l1ShrinkTarget()
    expect(target).toBe(15 * unit)
    cache.shrinkTo(target!)
    expect(cache.bytes).toBeLessThanOrEqual(target!)
    expect(cache.count).toBe(15)
  })
})

describe('backpressure level changes', () => {
  it('tells listeners each change with the previous level; unsubscribes; survives a throwing listener', () => {
    const bp = new Backpressure()
    const heard: [string, string][] = []
    bp.onChange(() => {
      throw new Error('a broken metrics hook')
    })
    const off = bp.onChange((level, previous) => heard.push([previous, level]))
    bp.update(fills({ queue: 0.75 }))
    bp.update(fills({ queue: 0.76 }))
    bp.update(fills({ queue: 0.99 }))
    bp.update(fills({ queue: 0 }))
    off()
    bp.update(fills({ queue: 0.8 }))
    expect(heard).toEqual([
      ['normal', 'warn'],
      ['warn', 'emergency'],
      ['emergency', 'normal'],
    ])
    expect(bp.snapshot().changes).toBe(4)
  })
})
