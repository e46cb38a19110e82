import { type Logger, silentLogger } from '../engine/logger.ts'
import type { L3Store } from '../l3/l3-store.ts'
import { connectedWriter, drainOnce } from '../log/log-drainer.ts'
import { defaultPlatform, type Platform, type TimerHandle } from '../platform/platform.ts'
import { TierWriter } from '../tiers/tier-writer.ts'
import type { OutboxShardLog } from './outbox-shard-log.ts'
import type { RedisOutbox } from './redis-outbox.ts'

/** Time kept back at the end of an invocation: a page in flight must be stored and removed in it. */
export const DEFAULT_FLUSH_RESERVE_MS = 5_000
/** Shards drained at once by one flusher. */
export const SHARDS_AT_ONCE = 4
/**
 * A shard's lease: renewed every third of it while its drain runs, so a drain of any length keeps
 * its shard, and a flusher killed with it held delays that shard this long at most.
 */
export const LEASE_MS = 30_000

export interface FlushOutboxOptions {
  readonly outbox: RedisOutbox
  /** L3, or a writer over it kept across invocations (its breaker remembers an outage). */
  readonly l3: L3Store | TierWriter
  /** Time left to this invocation, in ms (Lambda's `getRemainingTimeInMillis`). */
  readonly remainingMs: () => number
  /** A shard's lease, renewed every third of it while its drain runs (default `LEASE_MS`). */
  readonly leaseMs?: number
  /** Stop taking pages when less than this is left (default 5 s). */
  readonly reserveMs?: number
  readonly logger?: Logger
  readonly platform?: Platform
}

/** The log drain's per-shard lines are too many for a flusher (one summary line per run is logged). */
function quiet(logger: Logger): Logger {
  // Methods called on the logger itself: pino's live on its prototype.
  return {
    debug: (fields, message) => logger.debug(fields, message),
    info: () => {},
    warn: (fields, message) => logger.warn(fields, message),
    error: (fields, message) => logger.error(fields, message),
  }
}

/** What one flusher run did. */
export interface FlushOutboxReport {
  /** Entries removed from the outbox once stored in L3 (an id's older entries with its newest). */
  readonly drained: number
  /** Entries L3 held a newer version of: removed, their L2 copy dropped, and logged. */
  readonly stale: number
  /** Shards whose drain failed (L3 down or refusing): their entries stay for the next run. */
  readonly failed: number
  /**
   * Entries L3 refused for good (data it cannot store, which the engine refuses at submit where it
   * can): acknowledged writes that are lost. They leave the outbox, logged as errors with their ids.
   */
  readonly rejected: number
  /** Entries still in the outbox at the end, every shard counted. */
  readonly left: number
  /** Shards another flusher held the lease of: it drains them. */
  readonly busy: number
  /** The run ended for want of time with shards not visited or pages left. */
  readonly stopped: boolean
}

/**
 * Drains the outbox into L3 within the time an invocation has: each shard under a lease (SET NX
 * PX, released at the end, expiring by itself if this flusher is killed), through the log drain —
 * version-guarded, oldest first, pages removed only once stored — so flushers running at once
 * share the shards instead of doing the same work, and a killed one leaves nothing behind that the
 * next run cannot finish. Shards are visited from a random one on, so a short run does not always
 * favour shard 0. An entry L3 holds a newer version of (another instance wrote it with a clock
 * ahead, and L2 had no copy to raise it above) is not silently dropped: its L2 copy goes, it is
 * counted and logged.
 */
export async function flushOutbox(options: FlushOutboxOptions): Promise<FlushOutboxReport> {
  const { outbox, remainingMs } = options
  const logger = options.logger ?? silentLogger
  const platform = options.platform ?? defaultPlatform
  const reserve = options.reserveMs ?? DEFAULT_FLUSH_RESERVE_MS
  const leaseMs = options.leaseMs ?? LEASE_MS
  const writer =
    options.l3 instanceof TierWriter
      ? options.l3
      : await connectedWriter({ l3: options.l3 }, logger, platform)
  const token = crypto.randomUUID()
  const shards = outbox.shards
  const start = Math.floor(Math.random() * shards.length)
  let drained = 0
  let stale = 0
  let failed = 0
  let rejected = 0
  let busy = 0
  let stopped = false
  let next = 0
  const outOfTime = () => remainingMs() < reserve
  const drainShard = async (shard: OutboxShardLog) => {
    if (!(await outbox.lease(shard.shard, token, leaseMs))) {
      busy++
      return
    }
    const lease = new LeaseRenewal(outbox, shard.shard, token, leaseMs, platform, logger)
    try {
      const report = await drainOnce({
        log: shard,
        writer,
        // A lease lost (this process stalled past it) is another flusher's shard now: stop there.
        shouldStop: () => outOfTime() || lease.lost,
        logger: quiet(logger),
        platform,
        onSuperseded: async (superseded) => {
          const writes = [...superseded.values()].map(({ write }) => write)
          await outbox.dropSuperseded(writes)
          logger.warn(
            { shard: shard.shard, ids: [...superseded.keys()].slice(0, 20), count: superseded.size },
            'outbox entries were superseded by newer versions stored in L3; their L2 copies were dropped',
          )
        },
      })
      drained += report.removed - report.superseded - report.rejected
      stale += report.superseded
      rejected += report.rejected
      if (report.stopped) stopped = true
    } catch (error) {
      failed++
      logger.error(
        { shard: shard.shard, err: (error as Error)?.message },
        'outbox shard not drained; it is retried next run',
      )
    } finally {
      lease.stop()
      await outbox.release(shard.shard, token).catch(() => {})
    }
  }
  // A few shards at once: each drain keeps up to two pages in flight, and shards hold disjoint ids,
  // so their transactions do not wait on each other; one shard at a time left L3 idle between them.
  const worker = async () => {
    while (next < shards.length) {
      if (outOfTime()) {
        stopped = true
        return
      }
      const shard = shards[(start + next++) % shards.length]!
      await drainShard(shard)
    }
  }
  await Promise.all(Array.from({ length: Math.min(SHARDS_AT_ONCE, shards.length) }, worker))
  const left = await outbox.countEntries()
  const report = { drained, stale, failed, rejected, left, busy, stopped }
  logger.info(report, 'outbox flushed')
  return report
}

/** Keeps a shard's lease while its drain runs: extended every third of it, until stopped or lost. */
class LeaseRenewal {
  lost = false
  #timer: TimerHandle | undefined

  constructor(
    private readonly outbox: RedisOutbox,
    private readonly shard: number,
    private readonly token: string,
    private readonly leaseMs: number,
    private readonly platform: Platform,
    private readonly logger: Logger,
  ) {
    this.#arm()
  }

  stop(): void {
    if (this.#timer !== undefined) this.platform.clearTimer(this.#timer)
    this.#timer = undefined
  }

  #arm(): void {
    this.#timer = this.platform.setTimer(() => void this.#renew(), this.leaseMs / 3)
  }

  async #renew(): Promise<void> {
    try {
      if (await this.outbox.renew(this.shard, this.token, this.leaseMs)) {
        if (this.#timer !== undefined) this.#arm()
        return
      }
      this.lost = true
      this.logger.warn({ shard: this.shard }, 'outbox shard lease lost (expired): stopping its drain')
    } catch (error) {
      // Redis did not answer: try again; the lease lasts three times as long as the interval.
      this.logger.warn({ shard: this.shard, err: (error as Error)?.message }, 'outbox lease renewal failed')
      if (this.#timer !== undefined) this.#arm()
    }
  }
}
