/**
 * Compares ids in UTF-8 byte order, the order of SQLite's BINARY collation and MySQL's binary
 * strings, without encoding them. UTF-16 code unit order differs only where a surrogate pair (a
 * code point above U+FFFF, 4 bytes of UTF-8) meets a unit in U+E000–U+FFFF: UTF-16 puts the pair
 * first, UTF-8 last. Hand-rolled because `String.prototype.localeCompare` and `<` give neither.
 */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return utf8Rank(x) - utf8Rank(y)
  }
  return a.length - b.length
}

/** Moves surrogates (D800–DFFF) above E000–FFFF, keeping the order within each range. */
function utf8Rank(unit: number): number {
  if (unit < 0xd800) return unit
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800
}

/**
 * The keys of a map in UTF-8 order, for keyset scans: rebuilt by the next scan after a key was
 * added or removed, then searched by bisection. Hand-rolled (no sorted map in the language): a
 * bulk load of n new ids costs one O(n log n) sort, not n insertions into an array.
 */
export class SortedIds {
  #sorted: string[] | undefined = []

  constructor(private readonly keys: () => Iterable<string>) {}

  /** Call when a key was added to or removed from the map. */
  changed(): void {
    this.#sorted = undefined
  }

  /** The sorted ids and the index of the first one that is > `after` (or ≥ `from`). */
  from(options: { after?: string; from?: string }): { ids: readonly string[]; start: number } {
    this.#sorted ??= [...this.keys()].sort(compareUtf8)
    const ids = this.#sorted
    let start = 0
    if (options.from !== undefined) start = firstIndex(ids, (id) => compareUtf8(id, options.from!) >= 0)
    if (options.after !== undefined) {
      start = Math.max(
        start,
        firstIndex(ids, (id) => compareUtf8(id, options.after!) > 0),
      )
    }
    return { ids, start }
  }
}

/** The first index whose id satisfies `test` (which is false, then true, along the sorted ids). */
function firstIndex(ids: readonly string[], test: (id: string) => boolean): number {
  let low = 0
  let high = ids.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (test(ids[middle]!)) high = middle
    else low = middle + 1
  }
  return low
}
