import type { L1Cache } from '../l1/l1-cache.ts'
import type { WriteAheadLog } from '../log/write-ahead-log.ts'
import type { SubmitOptions } from '../options/submit-options.ts'
import type { Platform } from '../platform/platform.ts'
import type { Backpressure } from '../pressure/backpressure.ts'
import type { WriteQueue } from '../queue/write-queue.ts'

export interface WriteAdmissionParts {
  readonly pressure: Backpressure
  readonly l1: L1Cache
  readonly queue: WriteQueue
  /** The log whose fill counts: a write-ahead log or the outbox. */
  readonly log: Pick<WriteAheadLog, 'stats'> | undefined
  readonly platform: Platform
  readonly hasL3: boolean
  /** The queue's byte budget (live). */
  readonly queueMaxBytes: () => number
}

/**
 * Backpressure on the write path, before any side effect of a write: evicts L1 down (warn and
 * up), delays the write (throttle), or refuses it with `BackpressureError` (cache-only at
 * critical, every write at emergency). Reads are never refused. A write that fails validation is
 * refused by validation, not counted here.
 */
export class WriteAdmission {
  constructor(private readonly parts: WriteAdmissionParts) {}

  /**
   * Undefined when the write may go at once — not a resolved promise: every submit passes here,
   * and an await costs it a microtask turn and a promise — else the throttle's delay to wait.
   * Throws `BackpressureError` when the write is refused.
   */
  admit(options: SubmitOptions | undefined): Promise<void> | undefined {
    const { pressure, queue, log } = this.parts
    // The hot path: well under every threshold, the level is normal whatever its history, so it
    // need not be recomputed (that allocates) on every submit.
    if (pressure.level === 'normal' && queue.bytes < this.parts.queueMaxBytes() / 2) {
      const stats = log?.stats()
      if (stats === undefined || stats.bytes < stats.maxBytes / 2) return undefined
    }
    this.update()
    if (pressure.level === 'normal') return undefined
    const target = pressure.l1ShrinkTarget()
    if (target !== undefined) this.parts.l1.shrinkTo(target)
    const cacheOnly = options?.sql === false || !this.parts.hasL3
    const { delayMs } = pressure.admit({ cacheOnly })
    if (delayMs <= 0) return undefined
    return new Promise<void>((resolve) => this.parts.platform.setTimer(resolve, delayMs))
  }

  /** Re-measures the fill of the queue and the log (after every flush, and when near a threshold). */
  update(): void {
    const { l1, queue, log } = this.parts
    const stats = log?.stats()
    this.parts.pressure.update({
      l1: { bytes: l1.bytes, budget: l1.maxBytes },
      queue: { bytes: queue.bytes, budget: this.parts.queueMaxBytes() },
      ...(stats && { log: { bytes: stats.bytes, budget: stats.maxBytes } }),
    })
  }
}
