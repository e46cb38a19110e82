import {
  ACK_LEVELS,
  type AckLevel,
  CacheTtl,
  InvalidArgumentError,
  MAX_TTL_MS,
  SubmitOptions,
  validateSubmitOptions,
  validateTtl,
} from '@sync-engine/core'
import { describe, expect, it } from 'vitest'

function caught(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

function expectInvalidArgument(fn: () => unknown, mentions?: string) {
  const error = caught(fn)
  expect(error).toBeInstanceOf(InvalidArgumentError)
  expect((error as InvalidArgumentError).code).toBe('INVALID_ARGUMENT')
  expect((error as InvalidArgumentError).status).toBe(400)
  if (mentions) expect((error as Error).message).toContain(mentions)
}

describe('SubmitOptions presets', () => {
  it('default() routes to Redis and SQL without a TTL', () => {
    expect(SubmitOptions.default()).toEqual({ redis: true, sql: true })
  })

  it('cache(ttl) routes to Redis only with that TTL', () => {
    expect(SubmitOptions.cache(CacheTtl.Hour)).toEqual({ redis: true, sql: false, redisTtl: 3_600_000 })
    expect(SubmitOptions.cache(1500)).toEqual({ redis: true, sql: false, redisTtl: 1500 })
  })

  it('durable() routes to SQL only', () => {
    expect(SubmitOptions.durable()).toEqual({ redis: false, sql: true })
  })

  it('returns a fresh object each time (a caller mutating one preset does not change the next)', () => {
    const first = SubmitOptions.default()
    first.redis = false
    expect(SubmitOptions.default().redis).toBe(true)
  })

  it('cache() rejects a bad TTL with InvalidArgumentError', () => {
    expectInvalidArgument(() => SubmitOptions.cache(0))
    expectInvalidArgument(() => SubmitOptions.cache(-5))
    expectInvalidArgument(() => SubmitOptions.cache(1.5))
  })
})

describe('CacheTtl', () => {
  it('has the named presets in milliseconds', () => {
    expect(CacheTtl.Minute).toBe(60_000)
    expect(CacheTtl.Short).toBe(300_000)
    expect(CacheTtl.Medium).toBe(900_000)
    expect(CacheTtl.Hour).toBe(3_600_000)
    expect(CacheTtl.Day).toBe(86_400_000)
    expect(CacheTtl.Week).toBe(604_800_000)
  })

  it('ms() returns a valid custom TTL and rejects an invalid one', () => {
    expect(CacheTtl.ms(2500)).toBe(2500)
    expectInvalidArgument(() => CacheTtl.ms(0))
  })

  it('every preset is itself a valid TTL', () => {
    for (const ttl of [
      CacheTtl.Minute,
      CacheTtl.Short,
      CacheTtl.Medium,
      CacheTtl.Hour,
      CacheTtl.Day,
      CacheTtl.Week,
    ])
      expect(() => validateTtl(ttl)).not.toThrow()
  })
})

describe('validateTtl', () => {
  it('accepts 1 ms and MAX_TTL_MS (10 years)', () => {
    expect(MAX_TTL_MS).toBe(10 * 365 * 86_400_000)
    expect(() => validateTtl(1)).not.toThrow()
    expect(() => validateTtl(MAX_TTL_MS)).not.toThrow()
  })

  for (const [label, ttl] of [
    ['zero', 0],
    ['negative', -1],
    ['non-integer', 10.5],
    ['above MAX_TTL_MS', MAX_TTL_MS + 1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ] as const) {
    it(`rejects a ${label} ttl with InvalidArgumentError naming the value`, () => {
      expectInvalidArgument(() => validateTtl(ttl), `got ${ttl}`)
    })
  }
})

describe('validateSubmitOptions', () => {
  it('accepts every preset and every ack level', () => {
    expect(() => validateSubmitOptions(SubmitOptions.default())).not.toThrow()
    expect(() => validateSubmitOptions(SubmitOptions.durable())).not.toThrow()
    expect(() => validateSubmitOptions(SubmitOptions.cache(CacheTtl.Day))).not.toThrow()
    expect(ACK_LEVELS).toEqual(['queued', 'logged', 'stored'])
    for (const ack of ACK_LEVELS) expect(() => validateSubmitOptions({ ack })).not.toThrow()
  })

  it('rejects a bad redisTtl', () => {
    expectInvalidArgument(() => validateSubmitOptions({ redisTtl: 0 }), 'ttl')
    expectInvalidArgument(() => validateSubmitOptions({ redisTtl: -100 }), 'ttl')
    expectInvalidArgument(() => validateSubmitOptions({ redisTtl: 0.5 }), 'ttl')
    expectInvalidArgument(() => validateSubmitOptions({ redisTtl: MAX_TTL_MS + 1 }), 'ttl')
  })

  it('rejects an unknown ack level, naming the allowed ones', () => {
    expectInvalidArgument(
      () => validateSubmitOptions({ ack: 'durable' as AckLevel }),
      'queued, logged, stored',
    )
    expectInvalidArgument(() => validateSubmitOptions({ ack: '' as AckLevel }), 'ack')
  })

  it('rejects a non-boolean redis or sql flag', () => {
    expectInvalidArgument(() => validateSubmitOptions({ redis: 'yes' as unknown as boolean }), 'redis')
    expectInvalidArgument(() => validateSubmitOptions({ sql: 1 as unknown as boolean }), 'sql')
  })

  it('rejects a bad state override', () => {
    expectInvalidArgument(() => validateSubmitOptions({ state: '' }))
    expectInvalidArgument(() => validateSubmitOptions({ state: 'x\u0001' }))
  })
})
