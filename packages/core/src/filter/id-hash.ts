/**
 * A 64-bit non-cryptographic hash of an id, as two independent 32-bit halves, for the existence
 * filter: `lo` picks buckets, `hi` is the fingerprint, so the two must not be correlated.
 *
 * It hashes UTF-16 code units two at a time rather than UTF-8 bytes: equal strings have equal code
 * units, so this is just as exact, and it skips a `TextEncoder` pass and its allocation on every
 * lookup (the read path wants over a million negative lookups a second). Two MurmurHash3-style lanes
 * with different constants run side by side and are cross-mixed at the end, like MurmurHash3
 * x86_128, so `hi` and `lo` do not share a weakness. Results are left in `hi`/`lo` instead of being
 * returned in an object so a lookup allocates nothing.
 *
 * Not collision-resistant against someone who picks ids to collide: that would only raise the
 * filter's false-positive rate unless they also delete ids they never wrote (see existence-filter.ts).
 */
export class IdHasher {
  /** The fingerprint half of the last `hash()`. */
  hi = 0
  /** The bucket-index half of the last `hash()`. */
  lo = 0
  readonly #seed1: number
  readonly #seed2: number

  constructor(seed: number) {
    this.#seed1 = seed | 0
    // A different start for the second lane, so the lanes differ even on the empty string.
    this.#seed2 = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) | 0
  }

  hash(id: string): void {
    let h1 = this.#seed1
    let h2 = this.#seed2
    const n = id.length
    let i = 0
    for (; i + 1 < n; i += 2) {
      const k = id.charCodeAt(i) | (id.charCodeAt(i + 1) << 16)
      let k1 = Math.imul(k, 0xcc9e2d51)
      k1 = Math.imul((k1 << 15) | (k1 >>> 17), 0x1b873593)
      h1 ^= k1
      h1 = (Math.imul((h1 << 13) | (h1 >>> 19), 5) + 0xe6546b64) | 0
      let k2 = Math.imul(k, 0x85ebca6b)
      k2 = Math.imul((k2 << 16) | (k2 >>> 16), 0xc2b2ae35)
      h2 ^= k2
      h2 = (Math.imul((h2 << 17) | (h2 >>> 15), 5) + 0x38495ab5) | 0
    }
    if (i < n) {
      // The odd last code unit: mixed in without the block rotation, as MurmurHash3 does its tail.
      const k = id.charCodeAt(i)
      let k1 = Math.imul(k, 0xcc9e2d51)
      h1 ^= Math.imul((k1 << 15) | (k1 >>> 17), 0x1b873593)
      k1 = Math.imul(k, 0x85ebca6b)
      h2 ^= Math.imul((k1 << 16) | (k1 >>> 16), 0xc2b2ae35)
    }
    // The length goes in so that ids differing only by trailing zero units still differ.
    h1 ^= n
    h2 ^= n
    h1 = (h1 + h2) | 0
    h2 = (h2 + h1) | 0
    h1 = fmix32(h1)
    h2 = fmix32(h2)
    h1 = (h1 + h2) | 0
    h2 = (h2 + h1) | 0
    this.lo = h1 >>> 0
    this.hi = h2 >>> 0
  }
}

/** MurmurHash3's finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h
}
