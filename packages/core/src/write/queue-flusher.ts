import type { Logger } from '../engine/logger.ts'
import type { LogKeeper } from '../log/log-keeper.ts'
import type { EngineMetrics } from '../metrics/engine-metrics.ts'
import type { Platform } from '../platform/platform.ts'
import { type FlushOutcome, NO_FAILURES, type QueuedWrite } from '../queue/queued-write.ts'
import { CircuitOpenError } from '../resilience/circuit-open-error.ts'
import { L3UnavailableError } from '../tiers/l3-tier.ts'
import type { TierWriteResult, TierWriter } from '../tiers/tier-writer.ts'

export interface QueueFlusherParts {
  readonly writer: TierWriter
  readonly log: LogKeeper | undefined
  readonly metrics: EngineMetrics
  readonly logger: Logger
  readonly platform: Platform
  /** After every batch: backpressure is re-measured, maintenance armed if something is left to do. */
  readonly afterBatch: () => void
  /** A version another writer stored (the clock moves past it, so this engine's next write is newer). */
  readonly observeVersion: (version: number) => void
}

/**
 * Flushes one batch of the write queue into the tiers (the queue calls it; the next batch may start
 * once this one's L3 part is done).
 * A throw re-queues the whole batch (replays are safe: every write is version-guarded). While L3
 * is unreachable (circuit open, or never connected) and a log exists, the L3-bound writes are
 * parked in the log instead and drain when L3 returns; a conditional write is refused instead,
 * since its condition can only be checked by L3 itself.
 */
export class QueueFlusher {
  /** Writes a tier kept a newer version of since start (acknowledged or not). */
  superseded = 0
  /**
   * Set by the shutdown: any L3 failure parks the writes in the log (durable, replayed by the
   * next start) rather than keeping them in memory, which is about to go.
   */
  parkOnAnyFailure = false

  constructor(private readonly parts: QueueFlusherParts) {}

  /** `release`: L3 is done with this batch (the queue may start the next; see `WriteQueue`). */
  readonly flushBatch = async (
    batch: readonly QueuedWrite[],
    release?: () => void,
  ): Promise<FlushOutcome> => {
    const { platform, metrics } = this.parts
    const started = platform.now()
    try {
      const outcome = await this.#flush(batch, release)
      metrics.recordFlush(batch.length, platform.now() - started, outcome.failed.size === 0)
      return outcome
    } catch (error) {
      metrics.recordFlush(batch.length, platform.now() - started, false)
      throw error
    } finally {
      this.parts.afterBatch()
    }
  }

  async #flush(batch: readonly QueuedWrite[], release: (() => void) | undefined): Promise<FlushOutcome> {
    const { writer, log } = this.parts
    let result: TierWriteResult
    let parked: Map<string, Error> | undefined
    let refused: Map<string, Error> | undefined
    try {
      result = await writer.write(batch, release ? { afterL3: release } : {})
    } catch (error) {
      const l3 = writer.l3
      const toL3 = l3 ? batch.filter((write) => write.route.l3) : []
      const unreachable = this.parkOnAnyFailure || isOutage(error) || !l3?.guard.closed
      if (!log || !l3 || toL3.length === 0 || !unreachable) throw error
      const reason = error instanceof Error ? error : new Error(String(error))
      const parkable = toL3.filter((write) => write.condition === undefined)
      await log.park(parkable)
      parked = new Map(parkable.map((write) => [write.id, reason]))
      if (parkable.length < toL3.length) {
        refused = new Map(toL3.filter((w) => w.condition !== undefined).map((write) => [write.id, reason]))
      }
      const rest = batch.filter((write) => !write.route.l3)
      result = await writer.write(rest)
    }
    if (log) await log.forget(result.settled as QueuedWrite[])
    if (result.superseded.size > 0) this.#reportSuperseded(result.superseded)
    for (const [id, error] of refused ?? []) result.rejected.set(id, error)
    return {
      written: result.settled.length - result.rejected.size - result.superseded.size,
      failed: result.failed.size > 0 ? result.failed : NO_FAILURES,
      ...(result.rejected.size > 0 && { rejected: result.rejected }),
      ...(parked && { parked }),
      ...(result.superseded.size > 0 && { superseded: result.superseded }),
      ...(result.deletedLive.size > 0 && { deletedLive: result.deletedLive }),
    }
  }

  /**
   * A write older than what a tier holds did not happen. Its `stored` caller gets a
   * `StaleVersionError`; one acknowledged earlier (`queued`, `logged`) can only be reported here:
   * another instance whose clock runs ahead wrote the id, or a caller-chosen version was old. The
   * clock moves past the versions that won (hybrid logical clock), so the next write of this
   * engine is ordered after them even if its wall clock lags.
   */
  #reportSuperseded(superseded: ReadonlyMap<string, number>): void {
    const count = superseded.size
    for (const version of superseded.values()) this.parts.observeVersion(version)
    this.superseded += count
    this.parts.metrics.writesSuperseded(count)
    this.parts.logger.warn(
      { writes: count, total: this.superseded },
      'writes superseded: a tier holds a newer version of their ids (another writer, or a clock behind)',
    )
  }
}

/** Whether an L3 failure means "unreachable" (park in the log) rather than a problem with this batch. */
function isOutage(error: unknown): boolean {
  return error instanceof CircuitOpenError || error instanceof L3UnavailableError
}
