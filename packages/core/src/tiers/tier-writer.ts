import type { Logger } from '../engine/logger.ts'
import { PreconditionFailedError } from '../errors.ts'
import type { FilterKeeper } from '../filter/filter-keeper.ts'
import type { L2WriteEntry } from '../l2/l2-store.ts'
import type { WriteCondition } from '../l3/l3-store.ts'
import type { PendingWrite } from '../log/write-ahead-log.ts'
import type { L2Tier } from './l2-tier.ts'
import type { L3Tier } from './l3-tier.ts'
import { l2EntryOf, recordOf } from './records.ts'

/** What the tiers did with a batch. */
export interface TierWriteResult {
  /**
   * Every write the tiers are done with — stored (an L3-routed one L2 missed is marked for
   * reconciliation instead), superseded or refused: the log may forget them. All but `failed`.
   */
  readonly settled: PendingWrite[]
  /** Cache-only writes L2 missed: they have no other copy, so they are retried. */
  readonly failed: Map<string, Error>
  /** Refused for good (data a tier cannot store, a condition that did not hold): never retried. */
  readonly rejected: Map<string, Error>
  /** Older than the version a tier keeps (nothing written): id → that version, 0 when unknown. */
  readonly superseded: Map<string, number>
  /** Tombstones that replaced a live item. */
  readonly deletedLive: Set<string>
}

export interface TierWriterParts {
  readonly l2?: L2Tier | undefined
  readonly l3?: L3Tier | undefined
  readonly logger: Logger
  readonly now: () => number
  /** L1, when there is one: drops its copy of `id` if it still holds exactly `version`. */
  readonly dropFromL1?: (id: string, version: number) => void
  readonly filter?: FilterKeeper | undefined
}

/**
 * The one way writes reach the tiers, shared by the flush of the write queue and the drain of the
 * log: L3 first (the ground truth), then L2 in one pipeline, so L2 never holds a write that L3
 * refused or has not committed. Every write is version-guarded in every tier; a conditional write
 * is checked atomically by the tier that decides (L3 when routed there, else L2). Throws when L3
 * is unreachable or fails, having written nothing the caller can count on (the caller parks the
 * writes or retries them: every write is idempotent under the guards).
 */
export class TierWriter {
  /**
   * L2 parts run one at a time, in the order of the calls (the queue's batches, a drain's pages).
   * The L3 part of the next batch may overlap the L2 part of this one, but L2 sees them in order: an unguarded delete of a
   * durable write's L2 copy must not land after a later batch's write of the id (a cache-only
   * write would be lost), nor a cache-only write after a later durable write's delete (L2 would
   * serve a version below the stored one).
   */
  #l2Turn: Promise<void> = Promise.resolve()

  constructor(private readonly parts: TierWriterParts) {}

  /**
   * The next place in L2's order. The one after it may go once this one is done and every one
   * before it is too: a call that ends early (its L3 part failed) does not let the next overtake
   * the L2 part of an earlier one still running.
   */
  #takeL2Turn(): { ready: Promise<void>; done: () => void } {
    const ready = this.#l2Turn
    let done!: () => void
    const finished = new Promise<void>((resolve) => {
      done = resolve
    })
    this.#l2Turn = Promise.all([ready, finished]).then(() => {})
    return { ready, done }
  }

  get l3(): L3Tier | undefined {
    return this.parts.l3
  }

  /**
   * `drain`: the writes come from the log, where an older copy of an id may meet a newer direct
   * write. Stale ones are then expected, not reported as superseded; and where no L2 needs to know
   * which they were, L3 is not asked (MySQL would read every version back). `reportSuperseded`
   * reports them anyway: the outbox flusher fixes the L2 copies of superseded entries.
   */
  async write(
    writes: readonly PendingWrite[],
    {
      drain = false,
      reportSuperseded = false,
      afterL3,
    }: {
      drain?: boolean
      reportSuperseded?: boolean
      /** Called once L3 committed (or had nothing to do), before the L2 part: not when L3 failed. */
      afterL3?: () => void
    } = {},
  ): Promise<TierWriteResult> {
    const result: TierWriteResult = {
      settled: [],
      failed: new Map(),
      rejected: new Map(),
      superseded: new Map(),
      deletedLive: new Set(),
    }
    // The L2 turn is taken first: L2 parts run in the order of the calls, whichever L3 part ends
    // first (two log-drain pages in flight; the queue's batches, whose L3 parts run in turn).
    const turn = this.#takeL2Turn()
    let failedInL2: Set<string>
    try {
      const l3 = this.parts.l3
      const toL3 = l3 ? writes.filter((write) => write.route.l3) : []
      /** L3 kept a newer version: the write must not reach L2 either (L2 would hold an older copy). */
      const staleInL3 = new Set<string>()
      if (l3 && toL3.length > 0) await this.#writeL3(l3, toL3, drain, reportSuperseded, result, staleInL3)
      const committed =
        result.rejected.size > 0 || staleInL3.size > 0
          ? writes.filter((write) => !result.rejected.has(write.id) && !staleInL3.has(write.id))
          : writes
      afterL3?.()
      await turn.ready
      failedInL2 = await this.#writeL2(committed, drain, result)
    } finally {
      turn.done()
    }
    if (failedInL2.size === 0) result.settled.push(...writes)
    else for (const write of writes) if (!failedInL2.has(write.id)) result.settled.push(write)
    return result
  }

  async #writeL3(
    l3: L3Tier,
    writes: readonly PendingWrite[],
    drain: boolean,
    reportSuperseded: boolean,
    result: TierWriteResult,
    staleInL3: Set<string>,
  ): Promise<void> {
    let conditions: Map<string, WriteCondition> | undefined
    for (const write of writes) {
      if (write.condition === undefined) continue
      conditions ??= new Map()
      conditions.set(write.id, { ifVersion: write.condition })
    }
    const reportStale = !drain || reportSuperseded || this.parts.l2 !== undefined
    const outcome = await l3.write(writes.map(recordOf), {
      reportStale,
      ...(conditions && { conditions }),
    })
    for (const [id, error] of outcome.rejected ?? []) {
      result.rejected.set(id, error)
      this.parts.logger.error(
        { id, err: error.message },
        drain
          ? 'L3 refused a logged write (it was acknowledged); it cannot be stored and leaves the log'
          : 'L3 refused a write; it is dropped and not acknowledged',
      )
    }
    for (const [id, current] of outcome.conflicts ?? []) {
      result.rejected.set(id, new PreconditionFailedError(id, conditions?.get(id)?.ifVersion ?? 0, current))
    }
    for (const id of outcome.stale) {
      staleInL3.add(id)
      if (!drain || reportSuperseded) result.superseded.set(id, outcome.storedVersions?.get(id) ?? 0)
    }
    for (const id of outcome.deletedLive ?? []) result.deletedLive.add(id)
    const filter = this.parts.filter
    for (const write of writes) {
      const refused = result.rejected.has(write.id) || staleInL3.has(write.id)
      // L1 must not go on serving a version a tier refused or superseded. A drain that did not ask
      // which were stale drops L1's copies of exactly the versions it wrote; the next read asks.
      if (refused || (drain && !reportStale)) this.parts.dropFromL1?.(write.id, write.version)
      if (refused || filter === undefined) continue
      if (write.item !== null) filter.added(write.id)
      else if (result.deletedLive.has(write.id)) filter.removed(write.id)
    }
  }

  /**
   * The L2 part. Returns the ids whose write failed and must be retried (cache-only ones). A write
   * L3 already stored is not failed when L2 misses it: its id is marked instead (L2 may hold an
   * older copy), reads skip L2 for it, and reconciliation drops that copy.
   */
  async #writeL2(
    writes: readonly PendingWrite[],
    drain: boolean,
    result: TierWriteResult,
  ): Promise<Set<string>> {
    const failed = new Set<string>()
    const l2 = this.parts.l2
    if (!l2 || writes.length === 0) return failed
    const now = this.parts.now()
    const entries: L2WriteEntry[] = []
    const sent: PendingWrite[] = []
    // A write to L3 only (durable) makes any L2 copy of its id older than the truth: drop it, so
    // L2 cannot serve a version below one already stored. The next read back-fills L2.
    const bypassed: PendingWrite[] = []
    for (const write of writes) {
      if (!write.route.l2) {
        if (write.route.l3) bypassed.push(write)
        continue
      }
      entries.push(l2EntryOf(write, now))
      sent.push(write)
    }
    if (entries.length > 0) {
      try {
        const outcome = await l2.write(entries)
        this.#applyL2Outcome(sent, outcome, drain, result)
        for (const write of sent) l2.staleCopies.clearUpTo(write.id, write.version)
      } catch (error) {
        this.#l2Missed(l2, sent, error, failed, result)
      }
    }
    if (bypassed.length > 0) {
      try {
        await l2.delete(bypassed.map((write) => write.id))
        for (const write of bypassed) l2.staleCopies.clearUpTo(write.id, write.version)
      } catch (error) {
        this.#l2Missed(l2, bypassed, error, failed, result)
      }
    }
    return failed
  }

  /** Cache-only writes are decided by L2: superseded, conditions, deletes that found the item, the filter. */
  #applyL2Outcome(
    sent: readonly PendingWrite[],
    outcome: Awaited<ReturnType<L2Tier['write']>>,
    drain: boolean,
    result: TierWriteResult,
  ): void {
    const byId = new Map<string, PendingWrite>()
    for (const write of sent) byId.set(write.id, write)
    for (const id of outcome.stale) {
      const write = byId.get(id)
      if (write === undefined) continue
      this.parts.dropFromL1?.(id, write.version)
      if (!write.route.l3 && !drain) result.superseded.set(id, 0)
    }
    for (const [id, current] of outcome.conflicts ?? []) {
      result.rejected.set(id, new PreconditionFailedError(id, byId.get(id)?.condition ?? 0, current))
      const write = byId.get(id)
      if (write) this.parts.dropFromL1?.(id, write.version)
    }
    const replacedLive = new Set(outcome.replacedLive ?? [])
    const filter = this.parts.filter
    const stale = outcome.stale.length > 0 ? new Set(outcome.stale) : undefined
    for (const write of sent) {
      if (write.route.l3 || stale?.has(write.id) || result.rejected.has(write.id)) continue
      if (write.item === null) {
        if (!replacedLive.has(write.id)) continue
        result.deletedLive.add(write.id)
        filter?.removed(write.id)
      } else filter?.added(write.id)
    }
  }

  #l2Missed(
    l2: L2Tier,
    writes: readonly PendingWrite[],
    error: unknown,
    failed: Set<string>,
    result: TierWriteResult,
  ): void {
    const failure = error instanceof Error ? error : new Error(String(error))
    let marked = 0
    for (const write of writes) {
      if (write.route.l3) {
        l2.staleCopies.mark(write.id, write.version)
        marked++
      } else if (write.condition !== undefined) {
        // Its caller is told; a conditional write is never retried behind its back.
        result.rejected.set(write.id, failure)
      } else {
        failed.add(write.id)
        result.failed.set(write.id, failure)
      }
    }
    this.parts.logger.warn(
      { err: failure.message, marked, retried: writes.length - marked },
      'L2 write failed: stored writes are reconciled when L2 returns, cache-only writes are retried',
    )
  }
}
