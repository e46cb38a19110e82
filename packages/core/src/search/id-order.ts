/**
 * "Id order" everywhere is the byte order of the ids' UTF-8, which is code point order. JavaScript's
 * `<` on strings compares UTF-16 code units, which puts U+E000–U+FFFF after the astral planes (an
 * emoji before `\uFFFD`): different from every SQL backend's binary collation. So compare by code
 * point.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // A surrogate starts a code point above U+FFFF: greater than any other unit's code point
    // (UTF-16 order differs only against U+E000–U+FFFF). Two surrogates, or two others, compare as units.
    const xs = x >= 0xd800 && x <= 0xdfff
    const ys = y >= 0xd800 && y <= 0xdfff
    if (xs !== ys) return xs ? 1 : -1
    return x - y
  }
  return a.length - b.length
}
