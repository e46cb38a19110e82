/** Fingerprint slots per bucket: with 4, a cuckoo table fills to about 95% before inserts fail. */
export const SLOTS_PER_BUCKET = 4

/**
 * A slot's count stops here and then never moves again (neither up nor down). A stuck count can
 * only keep a fingerprint that should have gone (a false positive), never drop one that should stay.
 */
export const MAX_COUNT = 255

/** Displacements tried before an insert gives up and reports the table full (it is then undone). */
const MAX_KICKS = 500

const TO_UNIT = 2 ** -32

/**
 * One fixed-size counting cuckoo table: `buckets` buckets of 4 slots, each slot a 32-bit fingerprint
 * (0 = empty) and an 8-bit count. It is one link of an `ExistenceFilter`, which does the hashing,
 * the growth and the guarantees; this file only stores fingerprints and never loses one.
 *
 * An entry with fingerprint `fp` lives in bucket `i1` or its partner `alt(i1, fp)`. The partner is
 * `(h(fp) - i) mod buckets`, an involution (`alt(alt(i)) = i`) for any bucket count, so a moved
 * fingerprint always knows its other bucket and tables need not be a power of two (which would
 * waste up to half the memory when sized for a known number of ids).
 *
 * The count is what makes deletion safe for ids that share a fingerprint and bucket pair: two adds
 * of such ids leave count 2 instead of one slot each, and one remove leaves the other held. A
 * repeated add of the same id also just counts, so it cannot fill a bucket pair.
 */
export class CuckooTable {
  readonly buckets: number
  readonly #fingerprints: Uint32Array
  readonly #counts: Uint8Array
  /** Slot indexes of the current kick chain, so a failed chain can be undone exactly. */
  readonly #kickLog = new Int32Array(MAX_KICKS)
  #occupied = 0
  #rng: number

  constructor(buckets: number, rngSeed: number) {
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > 2 ** 28) {
      throw new RangeError(`bucket count must be an integer in 1..2^28, got ${buckets}`)
    }
    this.buckets = buckets
    this.#fingerprints = new Uint32Array(buckets * SLOTS_PER_BUCKET)
    this.#counts = new Uint8Array(buckets * SLOTS_PER_BUCKET)
    // xorshift32 must not start at 0.
    this.#rng = rngSeed | 0 || 0x2545f491
  }

  get capacity(): number {
    return this.#fingerprints.length
  }

  /** Slots holding a fingerprint. */
  get occupied(): number {
    return this.#occupied
  }

  get memoryBytes(): number {
    return this.#fingerprints.byteLength + this.#counts.byteLength + this.#kickLog.byteLength
  }

  /** The first bucket for an id whose hash half is `lo` (uniform multiply-shift range reduction). */
  primaryBucket(lo: number): number {
    return (lo * this.buckets * TO_UNIT) | 0
  }

  /** The slot holding `fp` in bucket `i1` or its partner, or -1. */
  find(i1: number, fp: number): number {
    const fps = this.#fingerprints
    let s = i1 * SLOTS_PER_BUCKET
    if (fps[s] === fp) return s
    if (fps[s + 1] === fp) return s + 1
    if (fps[s + 2] === fp) return s + 2
    if (fps[s + 3] === fp) return s + 3
    s = this.#partner(i1, fp) * SLOTS_PER_BUCKET
    if (fps[s] === fp) return s
    if (fps[s + 1] === fp) return s + 1
    if (fps[s + 2] === fp) return s + 2
    if (fps[s + 3] === fp) return s + 3
    return -1
  }

  /** Adds one to a slot's count; false when the count is stuck at MAX_COUNT. */
  increment(slot: number): boolean {
    const count = this.#counts[slot]!
    if (count === MAX_COUNT) return false
    this.#counts[slot] = count + 1
    return true
  }

  /** Takes one from a slot's count, emptying the slot at zero; false when the count is stuck. */
  decrement(slot: number): boolean {
    const count = this.#counts[slot]!
    if (count === MAX_COUNT) return false
    if (count === 1) {
      this.#fingerprints[slot] = 0
      this.#counts[slot] = 0
      this.#occupied--
    } else {
      this.#counts[slot] = count - 1
    }
    return true
  }

  /**
   * Stores `fp` with count 1 in bucket `i1` or its partner, displacing other fingerprints to their
   * partner buckets when both are full. Returns false when the displacement chain finds no room;
   * the chain is then undone, so the table is exactly as before — the seed's library instead
   * dropped the last displaced fingerprint, a silent false negative for some other id.
   */
  insert(i1: number, fp: number): boolean {
    const i2 = this.#partner(i1, fp)
    if (this.#placeInFree(i1, fp, 1) || this.#placeInFree(i2, fp, 1)) return true
    const fps = this.#fingerprints
    const counts = this.#counts
    const log = this.#kickLog
    let carryFp = fp
    let carryCount = 1
    let bucket = this.#random() & 1 ? i1 : i2
    let kicks = 0
    for (; kicks < MAX_KICKS; kicks++) {
      const slot = bucket * SLOTS_PER_BUCKET + (this.#random() & (SLOTS_PER_BUCKET - 1))
      log[kicks] = slot
      const movedFp = fps[slot]!
      const movedCount = counts[slot]!
      fps[slot] = carryFp
      counts[slot] = carryCount
      carryFp = movedFp
      carryCount = movedCount
      bucket = this.#partner(bucket, carryFp)
      if (this.#placeInFree(bucket, carryFp, carryCount)) return true
    }
    // Swaps are their own inverse: replaying them backwards restores every slot and leaves the
    // carried entry as the new one again.
    for (let k = kicks - 1; k >= 0; k--) {
      const slot = log[k]!
      const movedFp = fps[slot]!
      const movedCount = counts[slot]!
      fps[slot] = carryFp
      counts[slot] = carryCount
      carryFp = movedFp
      carryCount = movedCount
    }
    return false
  }

  #partner(bucket: number, fp: number): number {
    // The fingerprint is mixed first so narrow or similar fingerprints still scatter their partners.
    let h = Math.imul(fp ^ (fp >>> 16), 0x45d9f3b)
    h ^= h >>> 15
    const offset = ((h >>> 0) * this.buckets * TO_UNIT) | 0
    const partner = offset - bucket
    return partner < 0 ? partner + this.buckets : partner
  }

  #placeInFree(bucket: number, fp: number, count: number): boolean {
    const fps = this.#fingerprints
    const base = bucket * SLOTS_PER_BUCKET
    for (let s = base; s < base + SLOTS_PER_BUCKET; s++) {
      if (fps[s] === 0) {
        fps[s] = fp
        this.#counts[s] = count
        this.#occupied++
        return true
      }
    }
    return false
  }

  /** xorshift32: cheap, and seeded so a table's layout is reproducible. */
  #random(): number {
    let x = this.#rng
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.#rng = x
    return x >>> 0
  }
}
