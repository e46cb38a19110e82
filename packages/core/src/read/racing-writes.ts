/** Entries kept before the writes no in-flight read can have raced are pruned. */
const PRUNE_AT = 4_096

/**
 * Tells a read whether a write of the same id happened while it was in flight. Writes go around
 * L1 (only an L1 copy they supersede is replaced), so a read that fetched version 1 from a tier
 * while version 2 was written and flushed would otherwise put version 1 into L1 and keep serving
 * it. Such a read still returns what it read (the write was concurrent) but does not admit it.
 *
 * Writes are counted by a local sequence, not by version: a caller-chosen version says nothing
 * about when the write happened. With no read in flight, a write costs one comparison.
 */
export class RacingWrites {
  /** Read ticket → the write sequence when it started. */
  readonly #reads = new Map<number, number>()
  /** Id → sequence of its latest write made while some read was in flight. */
  readonly #writes = new Map<string, number>()
  #nextTicket = 0
  #sequence = 0

  /** Starts a read; pass the ticket to `raced` and `end`. */
  begin(): number {
    const ticket = this.#nextTicket++
    this.#reads.set(ticket, this.#sequence)
    return ticket
  }

  end(ticket: number): void {
    this.#reads.delete(ticket)
    // Clearing an empty Map still reallocates its table: the common one-read-at-a-time case.
    if (this.#reads.size === 0 && this.#writes.size > 0) this.#writes.clear()
  }

  noteWrite(id: string): void {
    this.#sequence++
    if (this.#reads.size === 0) return
    this.#writes.set(id, this.#sequence)
    if (this.#writes.size >= PRUNE_AT) this.#prune()
  }

  /** Whether `id` was written after the read of `ticket` started. */
  raced(ticket: number, id: string): boolean {
    const started = this.#reads.get(ticket)
    const written = this.#writes.get(id)
    return started === undefined || (written !== undefined && written > started)
  }

  /** Drops writes older than every read in flight: no read can have raced them. */
  #prune(): void {
    let oldest = this.#sequence
    for (const started of this.#reads.values()) if (started < oldest) oldest = started
    for (const [id, sequence] of this.#writes) if (sequence <= oldest) this.#writes.delete(id)
  }
}
