/**
 * Ids with a version each, keeping the highest version marked: the ids whose L2 copy may be older
 * than an acknowledged write (reads skip L2 for them until L2 is reconciled). Parked writes have
 * their own `ParkedWrites`, which can also hold the writes.
 */
export class StaleL2Copies {
  readonly #versions = new Map<string, number>()

  mark(id: string, version: number): void {
    const current = this.#versions.get(id)
    if (current === undefined || current < version) this.#versions.set(id, version)
  }

  /** The marked version of `id`, or undefined. */
  get(id: string): number | undefined {
    return this.#versions.get(id)
  }

  has(id: string): boolean {
    return this.#versions.has(id)
  }

  /** Unmarks `id` if its mark is at or below `version` (a newer mark, made since, stays). */
  clearUpTo(id: string, version: number): void {
    const current = this.#versions.get(id)
    if (current !== undefined && current <= version) this.#versions.delete(id)
  }

  entries(): [string, number][] {
    return [...this.#versions]
  }

  get size(): number {
    return this.#versions.size
  }

  clear(): void {
    this.#versions.clear()
  }
}
