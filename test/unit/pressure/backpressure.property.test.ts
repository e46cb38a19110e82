import {
  Backpressure,
  BackpressureError,
  type BackpressureOptions,
  type PressureInputs,
  severity,
} from '@sync-engine/core/internal'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

const BUDGET = 1000

/** Valid options: thresholds in order, hysteresis below warn. */
const optionsArb: fc.Arbitrary<Partial<BackpressureOptions>> = fc.oneof(
  fc.constant({}),
  fc
    .record({
      warn: fc.double({ min: 0.1, max: 0.6, noNaN: true }),
      gaps: fc.tuple(
        fc.double({ min: 0.01, max: 0.2, noNaN: true }),
        fc.double({ min: 0.01, max: 0.2, noNaN: true }),
        fc.double({ min: 0.01, max: 0.2, noNaN: true }),
      ),
      hysteresisShare: fc.double({ min: 0, max: 0.9, noNaN: true }),
    })
    .map(({ warn, gaps: [a, b, c], hysteresisShare }) => ({
      warn,
      throttle: warn + a,
      critical: warn + a + b,
      emergency: warn + a + b + c,
      hysteresis: warn * hysteresisShare,
    })),
)

/** Bytes in thousandths of the budget, up to 120 %: thresholds like 0.7 are hit exactly. */
const bytesArb = fc.integer({ min: 0, max: 1200 })
const stepArb = fc.record({
  l1: fc.option(bytesArb, { nil: undefined }),
  queue: fc.option(bytesArb, { nil: undefined }),
  log: fc.option(bytesArb, { nil: undefined }),
})
type Step = { l1: number | undefined; queue: number | undefined; log: number | undefined }

function inputs(step: Step): PressureInputs {
  const fill = (bytes: number | undefined) => (bytes === undefined ? undefined : { bytes, budget: BUDGET })
  return { l1: fill(step.l1), queue: fill(step.queue), log: fill(step.log) }
}

/** The same step with more (never less) in each input that is present. */
const moreArb = fc.record({
  l1: fc.integer({ min: 0, max: 400 }),
  queue: fc.integer({ min: 0, max: 400 }),
  log: fc.integer({ min: 0, max: 400 }),
})

function plus(step: Step, more: { l1: number; queue: number; log: number }): Step {
  const add = (a: number | undefined, b: number) => (a === undefined ? undefined : a + b)
  return { l1: add(step.l1, more.l1), queue: add(step.queue, more.queue), log: add(step.log, more.log) }
}

describe('Backpressure properties', () => {
  it('the level is monotone in every fill: more fill, now or earlier, never gives a lower level', () => {
    fc.assert(
      fc.property(
        optionsArb,
        fc.array(fc.tuple(stepArb, moreArb, fc.boolean()), { maxLength: 60, size: 'max' }),
        (options, steps) => {
          const less = new Backpressure(options)
          const more = new Backpressure(options)
          for (const [step, extra, same] of steps) {
            less.update(inputs(step))
            // Sometimes the same fills (the history then matches), sometimes more in each.
            more.update(inputs(same ? step : plus(step, extra)))
            expect(severity(more.level)).toBeGreaterThanOrEqual(severity(less.level))
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('without history, the level is the highest threshold the counted fill reaches', () => {
    fc.assert(
      fc.property(optionsArb, stepArb, (options, step) => {
        const bp = new Backpressure(options)
        const level = bp.update(inputs(step))
        const o = bp.options
        const l1Counts = step.l1 !== undefined && step.l1 > BUDGET ? o.warn : 0
        const fill = Math.max((step.queue ?? 0) / BUDGET, (step.log ?? 0) / BUDGET, l1Counts)
        const expected =
          fill >= o.emergency
            ? 'emergency'
            : fill >= o.critical
              ? 'critical'
              : fill >= o.throttle
                ? 'throttle'
                : fill >= o.warn
                  ? 'warn'
                  : 'normal'
        expect(level).toBe(expected)
      }),
      { numRuns: 500 },
    )
  })

  it('admit never throws at normal, warn or throttle, always at emergency, and at critical only for cache-only writes', () => {
    fc.assert(
      fc.property(
        optionsArb,
        fc.array(fc.tuple(stepArb, fc.boolean()), { maxLength: 40, size: 'max' }),
        (options, steps) => {
          const bp = new Backpressure(options)
          for (const [step, cacheOnly] of steps) {
            bp.update(inputs(step))
            const refuses = bp.level === 'emergency' || (bp.level === 'critical' && cacheOnly)
            if (refuses) {
              expect(() => bp.admit({ cacheOnly })).toThrow(BackpressureError)
            } else {
              const { delayMs } = bp.admit({ cacheOnly })
              expect(delayMs).toBeGreaterThanOrEqual(0)
              expect(delayMs).toBeLessThanOrEqual(bp.options.maxDelayMs)
              if (bp.level === 'normal' || bp.level === 'warn') expect(delayMs).toBe(0)
              else expect(delayMs).toBeGreaterThanOrEqual(Math.round(bp.options.minDelayMs))
            }
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})
