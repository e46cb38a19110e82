import { InvalidArgumentError } from '../../errors.ts'

/** A registered partition: ids starting with `prefix` live in `table`. */
export interface Partition {
  readonly prefix: string
  readonly table: string
}

/** Longest prefix a partition may have, in UTF-8 bytes (ids are at most 512). */
export const MAX_PARTITION_PREFIX_BYTES = 255

const encoder = new TextEncoder()

export function checkPartitionPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || prefix === '') {
    throw new InvalidArgumentError('prefix: a partition needs a non-empty id prefix')
  }
  if (!prefix.isWellFormed() || encoder.encode(prefix).length > MAX_PARTITION_PREFIX_BYTES) {
    throw new InvalidArgumentError(
      `prefix: at most ${MAX_PARTITION_PREFIX_BYTES} bytes of well-formed text, got ${prefix.length} characters`,
    )
  }
  return prefix
}

/**
 * Which table holds an id: the partition with the longest prefix the id starts with, else the
 * base table. Prefixes are few (a handful per deployment), so a scan longest-first is enough.
 */
export class PartitionMap<T> {
  /** Longest prefix first, so the first match is the owner. */
  readonly #entries: { readonly prefix: string; readonly value: T }[]

  constructor(
    readonly base: T,
    partitions: readonly { readonly prefix: string; readonly value: T }[],
  ) {
    this.#entries = [...partitions].sort((a, b) => b.prefix.length - a.prefix.length)
  }

  get size(): number {
    return this.#entries.length
  }

  get values(): readonly T[] {
    return [this.base, ...this.#entries.map((entry) => entry.value)]
  }

  ownerOf(id: string): T {
    for (const entry of this.#entries) if (id.startsWith(entry.prefix)) return entry.value
    return this.base
  }

  /**
   * Every table that may hold an id under `prefix`: the owner of the prefix itself (it holds the
   * ids under it that no longer partition claims) and each partition whose prefix extends it.
   */
  covering(prefix: string): T[] {
    const owner = this.ownerOf(prefix)
    const tables = [owner]
    for (const entry of this.#entries) {
      if (entry.value !== owner && entry.prefix.startsWith(prefix)) tables.push(entry.value)
    }
    return tables
  }

  /** Groups items by the table that holds their id, in the order first seen. */
  group<I>(items: readonly I[], idOf: (item: I) => string): Map<T, I[]> {
    const groups = new Map<T, I[]>()
    for (const item of items) {
      const owner = this.#entries.length === 0 ? this.base : this.ownerOf(idOf(item))
      const group = groups.get(owner)
      if (group === undefined) groups.set(owner, [item])
      else group.push(item)
    }
    return groups
  }
}
