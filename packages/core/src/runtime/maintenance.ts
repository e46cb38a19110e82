import type { HybridLogicalClock } from '../clock/hybrid-clock.ts'
import type { Logger } from '../engine/logger.ts'
import { type DrainReport, drainOnce } from '../log/log-drainer.ts'
import type { LogKeeper } from '../log/log-keeper.ts'
import type { EngineMetrics } from '../metrics/engine-metrics.ts'
import type { Platform } from '../platform/platform.ts'
import { CircuitOpenError } from '../resilience/circuit-open-error.ts'
import type { L2Tier } from '../tiers/l2-tier.ts'
import type { L3Tier } from '../tiers/l3-tier.ts'
import type { TierWriter } from '../tiers/tier-writer.ts'
import { describe } from '../write/write-failures.ts'
import { PURGE_INTERVAL_MS, purgeL3 } from './purge.ts'

export interface MaintenanceParts {
  readonly log: LogKeeper | undefined
  readonly writer: TierWriter
  readonly l2: L2Tier | undefined
  readonly l3: L3Tier | undefined
  readonly clock: HybridLogicalClock
  readonly metrics: EngineMetrics
  readonly logger: Logger
  readonly platform: Platform
  /** `tombstoneRetentionMs` (live). */
  readonly tombstoneRetentionMs: () => number
  /** Whether this engine purges (false with the Redis outbox: its flusher purges, not a request). */
  readonly purges: boolean
}

/**
 * What an outage or the passing of time leaves behind, done in one `runOnce()`: remove settled
 * writes from the log, connect a tier that was unreachable, drain writes parked in the log,
 * reconcile L2 copies that may be stale, purge expired items and old tombstones. Every step goes
 * through its tier's breaker (a step while a circuit is open costs nothing). Who calls `runOnce`
 * is the host's choice: timers on Node (`MaintenanceTimer`), the request or a schedule on
 * serverless.
 */
export class Maintenance {
  #draining: Promise<DrainReport> | undefined
  #lastPurgeAt = 0
  #writtenSincePurge = false

  constructor(private readonly parts: MaintenanceParts) {}

  /** Writes are waiting for L3: not connected yet, or writes parked in the log. */
  get waitingForL3(): boolean {
    const { l3, log } = this.parts
    return l3 !== undefined && (!l3.connected || (log?.parked.size ?? 0) > 0)
  }

  /** Whether a run has something to do now. */
  get needed(): boolean {
    const { l2, log } = this.parts
    return (
      this.waitingForL3 ||
      (l2 !== undefined && (!l2.connection.connected || l2.staleCopies.size > 0)) ||
      (log?.settledWaiting ?? 0) > 0 ||
      this.#purgeDue()
    )
  }

  /** A flush wrote to the tiers: a purge may be due. */
  noteWrites(): void {
    this.#writtenSincePurge = true
  }

  async runOnce(): Promise<void> {
    const { l2, l3, log, logger } = this.parts
    await log?.removeSettled()
    try {
      if (l3 && !l3.connected) await l3.connection.ensure()
      if (l3?.connected && (log?.parked.size ?? 0) > 0 && !l3.guard.open) await this.drain()
    } catch (error) {
      if (!(error instanceof CircuitOpenError))
        logger.warn({ err: describe(error) }, 'L3 still unavailable; retrying')
    }
    try {
      if (l2 && !l2.connection.connected) await l2.connection.ensure()
      if (l2 && l2.staleCopies.size > 0 && !l2.guard.open) await l2.reconcile()
    } catch (error) {
      if (!(error instanceof CircuitOpenError))
        logger.warn({ err: describe(error) }, 'L2 reconciliation failed; retrying')
    }
    if (this.#purgeDue()) await this.#purge()
  }

  /** Drains the log into the tiers (one drain at a time); throws at the first L3 failure. */
  drain(): Promise<DrainReport> {
    const log = this.parts.log
    if (!log)
      return Promise.resolve({ drained: 0, kept: 0, stopped: false, superseded: 0, rejected: 0, removed: 0 })
    this.#draining ??= drainOnce({
      log: log.log,
      writer: this.parts.writer,
      parked: log.parked,
      observeVersion: (version) => this.parts.clock.observe(version),
      logger: this.parts.logger,
      platform: this.parts.platform,
    })
      .then((report) => {
        log.drained += report.drained
        this.parts.metrics.walDrained(report.drained)
        return report
      })
      .finally(() => {
        this.#draining = undefined
      })
    return this.#draining
  }

  #purgeDue(): boolean {
    return (
      this.parts.purges &&
      this.#writtenSincePurge &&
      this.parts.l3?.connected === true &&
      this.parts.platform.now() - this.#lastPurgeAt >= PURGE_INTERVAL_MS
    )
  }

  async #purge(): Promise<void> {
    const now = this.parts.platform.now()
    this.#lastPurgeAt = now
    this.#writtenSincePurge = false
    await purgeL3(this.parts.l3!, now, this.parts.tombstoneRetentionMs(), this.parts.logger)
  }
}
