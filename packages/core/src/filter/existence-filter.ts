import { CuckooTable, SLOTS_PER_BUCKET } from './cuckoo-table.ts'
import { IdHasher } from './id-hash.ts'

/**
 * The existence filter over L3 ids: "certainly absent" or "maybe present", so the read path can skip
 * L3 for ids that do not exist. It is our own counting cuckoo filter, not a library: the npm ones
 * measured (cuckoo-filter 1.1.4, bloom-filters 3.0.4 CuckooFilter) both need Node's `Buffer`, ran at
 * 36k–200k operations/s against a target of 1M negative lookups/s, and both lost inserted ids
 * without reporting a failure (6–33% of 200,000): a displaced fingerprint moves to a bucket that
 * lookups do not check (cuckoo-filter's XOR-then-modulo partner is no involution unless the size
 * is a power of two; bloom-filters computes the partner one way for lookups and another for
 * displacement) — exactly the false negative this filter exists to avoid.
 *
 * Multiset semantics: `add` counts, `remove` takes one count back. An id is held while it has been
 * added more times than removed.
 *
 * GUARANTEES (what the property test in test/property/filter-model.test.ts checks):
 * (a) No false negative for a held id, ever, when every `remove(id)` is of a held id. Inserts are
 *     never refused or skipped: a full table gets a new, twice-as-large link instead; a failed
 *     displacement chain is undone, never truncated; `add` never skips an id because
 *     `mightContain` already says yes (the seed did, and a later remove then took the other id's
 *     fingerprint); a count that saturates sticks, keeping its fingerprint.
 * (b) A `remove(id)` whose fingerprint is absent changes nothing and returns false — that id is
 *     certainly not held. So removing ids that were never added (deleting an id that never
 *     existed) is harmless, with one exception that no filter of this size can avoid:
 * (c) If a never-added id x has the same bucket pair and the same 32-bit fingerprint as a held id y,
 *     `remove(x)` and `remove(y)` leave the filter in identical states, so they are indistinguishable
 *     here and `remove(x)` takes y's count. A filter that could tell them apart would have to store
 *     ids exactly. The fingerprints are 32 bits wide to make this rare: a remove of a never-added id
 *     damages a held id with probability at most (fingerprints in its two buckets) / 2^32 ≤ 8 / 2^32
 *     ≈ 1.9e-9 per link. To remove that residue the engine can remove only ids it knows were live in
 *     L3 (an exact check, e.g. a pre-read of the ids a flush deletes); then (a) applies.
 * Extra adds and missed removes are always safe: they only leave a stale fingerprint (a false
 * positive) until the next rebuild. So the engine may add on every applied write, not only inserts.
 *
 * Whether negatives may be trusted (this engine is L3's only writer, and the filter was built from a
 * complete scan) is the engine's decision; `trusted` only records it.
 */
export interface ExistenceFilterOptions {
  /** Ids the first table is sized for (e.g. L3's count at start), so it need not grow. Default 1024. */
  expectedIds?: number
  /**
   * Hash seed. Random by default, so ids cannot be chosen ahead of time to share fingerprints;
   * fixed in tests for reproducible layouts.
   */
  seed?: number
  /**
   * Fingerprint width, 1–32 bits (default 32). Narrower widths save no memory (slots stay 32-bit);
   * they exist so tests can force fingerprint collisions and exercise guarantee (a) under them.
   */
  fingerprintBits?: number
}

/** Load of the newest link at which a new link is opened rather than pushing displacement chains. */
const MAX_LOAD = 0.95
/** Load the first link is sized for, leaving room for writes after a rebuild. */
const SIZING_LOAD = 0.9
const DEFAULT_EXPECTED_IDS = 1024

export class ExistenceFilter {
  /** Whether the engine lets negatives skip L3. Policy lives in the engine; this is only the flag. */
  trusted = false
  /**
   * Links, oldest first; each new one has twice the buckets of the last. Growth cannot rehash the
   * old links (a fingerprint does not carry the hash bits a bigger table needs), so it chains.
   * A rebuild from L3 with `expectedIds` set folds them back into one.
   */
  readonly #links: CuckooTable[]
  readonly #hasher: IdHasher
  readonly #fingerprintShift: number
  readonly #seed: number
  #size = 0

  constructor(options: ExistenceFilterOptions = {}) {
    const expected = options.expectedIds ?? DEFAULT_EXPECTED_IDS
    if (!Number.isFinite(expected) || expected < 0) {
      throw new RangeError(`expectedIds must be a finite number >= 0, got ${expected}`)
    }
    const bits = options.fingerprintBits ?? 32
    if (!Number.isInteger(bits) || bits < 1 || bits > 32) {
      throw new RangeError(`fingerprintBits must be an integer in 1..32, got ${bits}`)
    }
    this.#seed = options.seed ?? (Math.random() * 2 ** 32) | 0
    this.#hasher = new IdHasher(this.#seed)
    this.#fingerprintShift = 32 - bits
    const buckets = Math.max(1, Math.ceil(expected / (SLOTS_PER_BUCKET * SIZING_LOAD)))
    this.#links = [new CuckooTable(buckets, this.#seed ^ 0x5f3759df)]
  }

  /**
   * A filter holding every id of `pages`, e.g. L3's ids streamed by keyset pagination
   * (`scanIdPages`). Pass `expectedIds` (L3's live count) to get a single link.
   */
  static async build(
    pages: AsyncIterable<readonly string[]> | Iterable<readonly string[]>,
    options: ExistenceFilterOptions = {},
  ): Promise<ExistenceFilter> {
    const filter = new ExistenceFilter(options)
    for await (const page of pages) {
      for (const id of page) filter.add(id)
    }
    return filter
  }

  /** Counts one more of `id`. Never refused: a full filter grows. */
  add(id: string): void {
    const fp = this.#fingerprint(id)
    const lo = this.#hasher.lo
    const links = this.#links
    for (const link of links) {
      const slot = link.find(link.primaryBucket(lo), fp)
      if (slot >= 0) {
        if (link.increment(slot)) this.#size++
        return
      }
    }
    let newest = links[links.length - 1]!
    if (newest.occupied >= newest.capacity * MAX_LOAD || !newest.insert(newest.primaryBucket(lo), fp)) {
      newest = this.#grow()
      // An empty link always has a free slot in the first bucket.
      newest.insert(newest.primaryBucket(lo), fp)
    }
    this.#size++
  }

  /**
   * Takes one count of `id` back. Returns false, changing nothing, when its fingerprint is absent:
   * then `id` was certainly not held. See guarantee (c) for never-added ids that collide.
   */
  remove(id: string): boolean {
    const fp = this.#fingerprint(id)
    const lo = this.#hasher.lo
    for (const link of this.#links) {
      const slot = link.find(link.primaryBucket(lo), fp)
      if (slot >= 0) {
        if (link.decrement(slot)) this.#size--
        return true
      }
    }
    return false
  }

  /** False only when `id` is certainly not held. */
  mightContain(id: string): boolean {
    const fp = this.#fingerprint(id)
    const lo = this.#hasher.lo
    for (const link of this.#links) {
      if (link.find(link.primaryBucket(lo), fp) >= 0) return true
    }
    return false
  }

  /** Adds minus removes, summed over ids (counts that saturated stay where they stopped). */
  get size(): number {
    return this.#size
  }

  /** Fingerprint slots across all links. */
  get capacity(): number {
    let slots = 0
    for (const link of this.#links) slots += link.capacity
    return slots
  }

  /** Occupied slots / capacity. */
  get loadFactor(): number {
    let occupied = 0
    for (const link of this.#links) occupied += link.occupied
    return occupied / this.capacity
  }

  /** Bytes held by the tables (5 per slot: a 32-bit fingerprint and an 8-bit count). */
  get memoryBytes(): number {
    let bytes = 0
    for (const link of this.#links) bytes += link.memoryBytes
    return bytes
  }

  /** Number of chained tables: more than one means the filter outgrew its sizing; rebuild to fold. */
  get links(): number {
    return this.#links.length
  }

  #grow(): CuckooTable {
    const last = this.#links[this.#links.length - 1]!
    const link = new CuckooTable(last.buckets * 2, this.#seed ^ Math.imul(this.#links.length, 0x9e3779b9))
    this.#links.push(link)
    return link
  }

  /** Hashes `id` (leaving the bucket half in the hasher's `lo`) and returns its non-zero fingerprint. */
  #fingerprint(id: string): number {
    this.#hasher.hash(id)
    // 0 marks an empty slot; mapping it to 1 makes 1 twice as likely, which is negligible at 32 bits.
    return this.#hasher.hi >>> this.#fingerprintShift || 1
  }
}
