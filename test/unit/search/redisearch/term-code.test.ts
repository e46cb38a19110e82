import { compareCodePoints } from '@sync-engine/core/internal'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeTerm, encodeTerm } from '../../../../packages/core/src/search/redisearch/term-code.ts'

/** Any UTF-16 units, lone surrogates included: codes must not care whether the text is well-formed. */
const text = fc.string({
  unit: fc.oneof(
    fc.constantFrom('a', 'Z', ' ', '*', '{', '"', '\\', '$', '-'),
    fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)),
    fc.constantFrom('😀', 'é', '\uFFFD', '\uE000', '\uD800'),
  ),
  maxLength: 12,
})

/** RediSearch's string comparison (value.c `cmp_strings`): strncmp over the shorter, then length. */
function byteOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++)
    if (a.charCodeAt(i) !== b.charCodeAt(i)) return a.charCodeAt(i) - b.charCodeAt(i)
  return a.length - b.length
}

describe('term codes', () => {
  it('spell ASCII in two hex digits, other units in five, after a v', () => {
    expect(encodeTerm('')).toBe('v')
    expect(encodeTerm('Ab ')).toBe('v416220')
    expect(encodeTerm('é')).toBe('v800e9')
    // A surrogate pair is two units, each marked as a surrogate.
    expect(encodeTerm('😀')).toBe('v9d83d9de00')
  })

  it('use only lower-case letters and digits, and decode back to the text', () => {
    fc.assert(
      fc.property(text, (s) => {
        const code = encodeTerm(s)
        expect(code).toMatch(/^v[0-9a-f]*$/)
        expect(decodeTerm(code)).toBe(s)
      }),
    )
  })

  it('compare as compareCodePoints compares the texts (byte order, then length)', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(Math.sign(byteOrder(encodeTerm(a), encodeTerm(b)))).toBe(Math.sign(compareCodePoints(a, b)))
      }),
    )
  })

  it('are prefixes of each other exactly when the texts are (JavaScript startsWith)', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(encodeTerm(b).startsWith(encodeTerm(a))).toBe(b.startsWith(a))
      }),
    )
    // A prefix ending inside a surrogate pair still matches, as startsWith says.
    expect(encodeTerm('😀x').startsWith(encodeTerm('\uD83D'))).toBe(true)
  })

  it('refuse to decode what no text encodes to', () => {
    for (const bad of ['', 'x41', 'v4', 'v8004', 'v80041', 'v9004a', 'v8d800', 'v41G', 'v9']) {
      expect(() => decodeTerm(bad), bad).toThrow(RangeError)
    }
  })
})
