/**
 * A finite number as two 32-bit unsigned integers (`h` high, `l` low) whose lexicographic order is
 * the numbers' order: the IEEE 754 bits, all flipped for a negative number, only the sign flipped
 * for a positive one, `-0` taken as `0` (the evaluator finds them equal).
 *
 * Why not index the number itself: RediSearch answers FT.AGGREGATE values with `%.12g` (so
 * `0.30000000000000004` comes back as `0.3`, and a cursor built from it would skip or repeat
 * items), and the JSON parser on the way in is not promised to round every decimal to the nearest
 * double. Integers below 2^32 survive every parser, `%lld` and IEEE doubles exactly, so `eq`,
 * `range`, the sort and the keyset position are all exact.
 */
export interface NumberKey {
  readonly h: number
  readonly l: number
}

export function numberKey(value: number): NumberKey {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`)
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, value === 0 ? 0 : value)
  const hi = view.getUint32(0)
  const lo = view.getUint32(4)
  if (hi >= 0x8000_0000) return { h: ~hi >>> 0, l: ~lo >>> 0 }
  return { h: (hi | 0x8000_0000) >>> 0, l: lo }
}

/** The number of a key; throws `RangeError` for integers out of range or a key of no finite number. */
export function numberOfKey(h: number, l: number): number {
  if (!isUint32(h) || !isUint32(l)) throw new RangeError(`not a number key: ${h}, ${l}`)
  const view = new DataView(new ArrayBuffer(8))
  if (h >= 0x8000_0000) {
    view.setUint32(0, (h & 0x7fff_ffff) >>> 0)
    view.setUint32(4, l)
  } else {
    view.setUint32(0, ~h >>> 0)
    view.setUint32(4, ~l >>> 0)
  }
  const value = view.getFloat64(0)
  if (!Number.isFinite(value)) throw new RangeError(`not a number key: ${h}, ${l}`)
  return value
}

function isUint32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff
}
