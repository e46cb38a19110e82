import type { HybridLogicalClock } from '../clock/hybrid-clock.ts'
import type { FilterKeeper } from '../filter/filter-keeper.ts'
import type { L1Cache } from '../l1/l1-cache.ts'
import type { Platform } from '../platform/platform.ts'
import type { QueuedWrite } from '../queue/queued-write.ts'
import type { RacingWrites } from '../read/racing-writes.ts'
import type { L2Tier } from '../tiers/l2-tier.ts'
import type { L3Tier } from '../tiers/l3-tier.ts'
import { RecentOutboxWrites } from './recent-outbox-writes.ts'
import type { OutboxOutcome, RedisOutbox } from './redis-outbox.ts'

export interface OutboxWritesParts {
  readonly outbox: RedisOutbox
  /** The L2 the outbox lives in: its breaker and deadline govern the outbox's calls too. */
  readonly l2: L2Tier
  readonly l3: L3Tier | undefined
  readonly clock: HybridLogicalClock
  readonly l1: L1Cache
  readonly races: RacingWrites
  readonly filter: FilterKeeper
  readonly platform: Platform
}

/**
 * The engine's side of an `ack: 'logged'` write through the outbox: the outbox is opened before
 * its first write (no I/O before one: a Lambda's cold start stays small) and each append is tied
 * to this engine's L3 in its script, the call
 * goes through L2's breaker, and what the engine knows follows the outcome — the clock moves past
 * the version given (raised above another instance's), L1 drops a copy at a version that did not
 * happen, reads in flight do not admit what they read before it, the filter learns the id.
 */
export class OutboxWrites {
  #ready: Promise<void> | undefined
  /** What this engine put in the outbox and L3 may not hold yet: searches include it. */
  readonly recent: RecentOutboxWrites

  constructor(private readonly parts: OutboxWritesParts) {
    this.recent = new RecentOutboxWrites(parts.platform.now)
  }

  get outbox(): RedisOutbox {
    return this.parts.outbox
  }

  async put(writes: readonly QueuedWrite[]): Promise<OutboxOutcome[]> {
    const { outbox, l2, l1, races, clock, filter, platform } = this.parts
    let outcomes: OutboxOutcome[]
    try {
      await this.#bound()
      outcomes = await l2.guard.run('write', () => outbox.put(writes, platform.now()))
    } catch (error) {
      for (const write of writes) {
        l1.deleteIfVersion(write.id, write.version)
        races.noteWrite(write.id)
      }
      throw error
    }
    outcomes.forEach((outcome, index) => {
      const write = writes[index]!
      races.noteWrite(write.id)
      if (!outcome.ok || outcome.version !== write.version) l1.deleteIfVersion(write.id, write.version)
      if (!outcome.ok) return
      clock.observe(outcome.version)
      if (write.route.l3) {
        this.recent.noteWrite({
          id: write.id,
          version: outcome.version,
          item: write.item?.withVersion(outcome.version, write.updatedAt) ?? null,
          expiresAt: write.expiresAt,
        })
      }
      l2.staleCopies.clearUpTo(write.id, outcome.version)
      if (write.item !== null) filter.added(write.id)
      else if (outcome.replacedLive) filter.removed(write.id)
    })
    return outcomes
  }

  /** Opens the outbox and binds it to L3's identity, once (a failed attempt is tried again). */
  #bound(): Promise<void> {
    this.#ready ??= (async () => {
      const { outbox, l2, l3 } = this.parts
      // Every append checks the target in its script; opening only learns the shards' counts.
      if (l3) outbox.useTarget(l3.store.identity)
      await l2.guard.run('write', () => outbox.open())
    })().catch((error: unknown) => {
      this.#ready = undefined
      throw error
    })
    return this.#ready
  }
}
