import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { numberKey, numberOfKey } from '../../../../packages/core/src/search/redisearch/number-key.ts'

const finite = fc.double({ noNaN: true, noDefaultInfinity: true })

describe('number keys', () => {
  it('are two 32-bit integers that give the number back exactly, -0 as 0', () => {
    fc.assert(
      fc.property(finite, (n) => {
        const { h, l } = numberKey(n)
        for (const half of [h, l]) expect(Number.isInteger(half) && half >= 0 && half < 2 ** 32).toBe(true)
        expect(Object.is(numberOfKey(h, l), n === 0 ? 0 : n)).toBe(true)
      }),
    )
    expect(numberKey(-0)).toEqual(numberKey(0))
  })

  it('order lexicographically (h, then l) as the numbers do', () => {
    fc.assert(
      fc.property(finite, finite, (a, b) => {
        const x = numberKey(a)
        const y = numberKey(b)
        const byKey = x.h !== y.h ? x.h - y.h : x.l - y.l
        expect(Math.sign(byKey)).toBe(Math.sign(a - b))
      }),
    )
  })

  it('refuse non-finite numbers and halves that are not one', () => {
    expect(() => numberKey(Number.NaN)).toThrow(RangeError)
    expect(() => numberKey(Number.POSITIVE_INFINITY)).toThrow(RangeError)
    expect(() => numberOfKey(2 ** 32, 0)).toThrow(RangeError)
    expect(() => numberOfKey(1.5, 0)).toThrow(RangeError)
    // The key +Infinity would have: its halves decode to no finite number.
    const inf = numberKey(Number.MAX_VALUE)
    expect(() => numberOfKey(inf.h, inf.l + 1)).toThrow(RangeError)
  })
})
