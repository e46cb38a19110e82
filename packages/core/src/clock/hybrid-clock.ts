import { InvalidArgumentError } from '../errors.ts'

/**
 * A hybrid logical clock packed into one safe integer: `wallMs * 1000 + counter`. Versions are
 * strictly increasing per clock, never go backwards when the wall clock does, and stay exact in
 * JSON, Lua (doubles) and SQL BIGINT until the year 2255. The engine seeds it at start with the
 * highest version L3 holds, so versions keep increasing across restarts.
 */
export const LOGICAL_PER_MS = 1000

export class HybridLogicalClock {
  #last = 0

  constructor(private readonly wallClock: () => number) {}

  /** The next version: greater than every version issued or observed so far. */
  next(): number {
    const physical = Math.floor(this.wallClock()) * LOGICAL_PER_MS
    const next = physical > this.#last ? physical : this.#last + 1
    // Past 2^53 doubles stop counting by one (2^53 + 1 === 2^53), so a version would repeat.
    if (!Number.isSafeInteger(next)) {
      throw new InvalidArgumentError(
        `version space exhausted: the next version would exceed ${Number.MAX_SAFE_INTEGER} (last ${this.#last})`,
      )
    }
    this.#last = next
    return next
  }

  /** Takes note of a version from elsewhere (a caller, a tier), so later versions exceed it. */
  observe(version: number): void {
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new InvalidArgumentError(`version must be a non-negative safe integer, got ${version}`)
    }
    if (version > this.#last) this.#last = version
  }

  get last(): number {
    return this.#last
  }
}

/** The wall-clock milliseconds a version was issued at. */
export function versionTimeMs(version: number): number {
  return Math.floor(version / LOGICAL_PER_MS)
}
