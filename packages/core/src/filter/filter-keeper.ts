import type { Logger } from '../engine/logger.ts'
import type { EngineMetrics } from '../metrics/engine-metrics.ts'
import { ExistenceFilter } from './existence-filter.ts'

/**
 * The engine's existence filter and its policy. It holds every id of every tier (L3's ids, and the
 * cache-only ids that live in L2 alone), and is *trusted* — allowed to answer "absent" with no
 * backend call — only when this engine is the only writer (`l3SingleWriter`) and the filter was
 * built from complete scans. Every applied put adds its id, whichever tier took it (extra adds only
 * cost false positives); a delete removes its id only when a tier reported that it replaced a
 * live item, so every remove is of a held id and a trusted filter never gives a false negative.
 */
export class FilterKeeper {
  #filter: ExistenceFilter | undefined
  #trusted = false
  #checks = 0
  #falsePositives = 0

  constructor(
    private readonly metrics: EngineMetrics,
    private readonly logger: Logger,
  ) {}

  get trusted(): boolean {
    return this.#trusted
  }

  /** The filter itself, for metrics (`size`); undefined until built. */
  get filter(): ExistenceFilter | undefined {
    return this.#filter
  }

  /**
   * Builds a new filter from `sources` (each an id scan of a tier). Writes applied during the
   * scans are added as usual, so the finished filter misses none; only then is it trusted.
   */
  async rebuild(sources: readonly AsyncIterable<readonly string[]>[]): Promise<void> {
    const filter = new ExistenceFilter({ expectedIds: 1 << 16 })
    this.#trusted = false
    this.#filter = filter
    for (const source of sources) for await (const page of source) for (const id of page) filter.add(id)
    if (this.#filter === filter) this.#trusted = true
    this.logger.info({ ids: filter.size }, 'existence filter built')
  }

  /** Whether the trusted filter proves `id` absent from every tier. */
  certainlyAbsent(id: string): boolean {
    if (!this.#trusted) return false
    this.#checks++
    const absent = !this.#filter!.mightContain(id)
    if (absent) this.metrics.filterCheck(false)
    return absent
  }

  /** Like `certainlyAbsent`, but not a read: not counted (a write asks whether it creates the item). */
  provesAbsent(id: string): boolean {
    return this.#trusted && !this.#filter!.mightContain(id)
  }

  /** After a "maybe": whether any tier had the id (if none did, the filter gave a false positive). */
  recordMaybe(found: boolean): void {
    if (!this.#trusted) return
    if (!found) this.#falsePositives++
    this.metrics.filterCheck(true, !found)
  }

  added(id: string): void {
    this.#filter?.add(id)
  }

  /** A delete that replaced a live item (reported by the tier that applied it). */
  removed(id: string): void {
    this.#filter?.remove(id)
  }

  snapshot(): { enabled: boolean; trusted: boolean; ids: number; checks: number; falsePositives: number } {
    return {
      enabled: this.#filter !== undefined,
      trusted: this.#trusted,
      ids: this.#filter?.size ?? 0,
      checks: this.#checks,
      falsePositives: this.#falsePositives,
    }
  }
}
