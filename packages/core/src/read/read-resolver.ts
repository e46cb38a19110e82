import type { HybridLogicalClock } from '../clock/hybrid-clock.ts'
import type { ItemStatus } from '../engine/receipts.ts'
import { CorruptionError } from '../errors.ts'
import type { FilterKeeper } from '../filter/filter-keeper.ts'
import { sha256Hex } from '../item/content-hash.ts'
import { validateId } from '../item/item-id.ts'
import type { SyncItem } from '../item/sync-item.ts'
import type { L1Cache, L1Entry } from '../l1/l1-cache.ts'
import { isLive, type RecordHead, type StoredRecord } from '../l3/stored-record.ts'
import type { LogKeeper } from '../log/log-keeper.ts'
import type { PendingWrite } from '../log/write-ahead-log.ts'
import type { EngineMetrics } from '../metrics/engine-metrics.ts'
import type { RecentOutboxWrites } from '../outbox/recent-outbox-writes.ts'
import type { Platform } from '../platform/platform.ts'
import type { WriteQueue } from '../queue/write-queue.ts'
import type { BackgroundScope } from '../runtime/background-scope.ts'
import type { L2Tier } from '../tiers/l2-tier.ts'
import type { L3Tier } from '../tiers/l3-tier.ts'
import { earliest, itemOf } from '../tiers/records.ts'
import type { RacingWrites } from './racing-writes.ts'

export interface ReadParts {
  readonly l1: L1Cache
  readonly queue: WriteQueue
  readonly log: LogKeeper | undefined
  readonly filter: FilterKeeper
  readonly l2: L2Tier | undefined
  readonly l3: L3Tier | undefined
  readonly races: RacingWrites
  readonly clock: HybridLogicalClock
  readonly metrics: EngineMetrics
  readonly platform: Platform
  /** L1's staleness bound for entries of a shared tier, in ms; undefined for none. */
  readonly l1TtlMs: () => number | undefined
  /** The writes this engine put in the Redis outbox, until L3 is seen to hold them. */
  readonly outboxWrites?: RecentOutboxWrites
}

export interface ResolveOptions {
  /** Re-hash content: a mismatch in L1 or L2 is a miss (repaired from L3), in L3 a `CorruptionError`. */
  readonly verify?: boolean
  /** Where background work (back-fills) goes. */
  readonly scope: BackgroundScope
  /** The caller already looked in L1 (and missed): `get`'s fast path. */
  readonly l1Checked?: boolean
}

/** One id's way down the tiers. */
interface Slot {
  readonly id: string
  /** A pending write the tiers' answer must be compared with (caller-versioned: maybe older). */
  pending: PendingWrite | undefined
  record: StoredRecord | RecordHead | undefined
  done: boolean
  item: SyncItem | undefined
  /**
   * `pending` is a write parked in the log: the answer unless L2 holds a newer version (a
   * cache-only write made after it). L3 is not asked: a newer write stored there clears the mark.
   */
  parked: boolean
}

type Mode = 'items' | 'heads'

/**
 * The one read path, batched. For every id: L1 → pending writes (the write queue, then writes
 * parked in the log: read your writes whatever tier is down) → existence filter (trusted only for a
 * single writer) → L2 (one round trip for all, skipping ids whose L2 copy may be stale) → L3 (one
 * query for the rest), back-filling L2 and L1. `get`, `getMany`, `getVerified`, `contains` and
 * `status` all go through here, so they cannot disagree: an item is live when it is not a
 * tombstone and its expiry (its TTL, the same instant in every tier) has not passed.
 */
export class ReadResolver {
  constructor(private readonly parts: ReadParts) {}

  /** Items in the order of `ids` (undefined where absent). */
  async items(ids: readonly string[], options: ResolveOptions): Promise<(SyncItem | undefined)[]> {
    const slots = await this.#resolve(ids, 'items', options)
    return ids.map((id) => slots.get(id)!.item)
  }

  /**
   * `items([id])` for `get` after its L1 miss: the commonest answer without a tier, a trusted
   * filter's "certainly absent" (the same rule as the batch's, `#absentByFilter`), costs no batch
   * structures; anything else goes the batch's way.
   */
  async item(id: string, options: ResolveOptions): Promise<SyncItem | undefined> {
    validateId(id)
    if (this.#absentByFilter(id, this.#visible(this.parts.queue.lookup(id)))) return undefined
    // Nothing has changed since (no await yet): the batch would find the same, so it does not ask.
    const slots = await this.#resolve([id], 'items', options, true)
    return slots.get(id)!.item
  }

  /** Whether each id is a live item, asking each tier for existence only (no content). */
  async exist(ids: readonly string[], options: ResolveOptions): Promise<boolean[]> {
    const slots = await this.#resolve(ids, 'heads', options)
    return ids.map((id) => {
      const slot = slots.get(id)!
      return slot.item !== undefined || isLive(slot.record, this.parts.platform.now())
    })
  }

  /** Where the item is: pending (queued or parked), synced (and in which tiers), or missing. */
  async status(id: string): Promise<ItemStatus> {
    validateId(id)
    const { l1, l2, l3, platform } = this.parts
    const pending = this.#visible(this.parts.queue.lookup(id)) ?? (await this.parts.log?.parkedWrite(id))
    if (pending) return { kind: 'pending', version: pending.version, deleted: pending.item === null }
    const inL1 = l1.peek(id)
    const [inL2, inL3] = await Promise.all([
      l2 ? l2.head([id]).then((found) => found.get(id)) : undefined,
      l3 ? l3.head([id]).then((found) => found.get(id)) : undefined,
    ])
    // This engine's outbox write that no flusher has stored yet: pending, not synced (unless a
    // newer write of another instance is in L2 since).
    const outboxed = this.parts.outboxWrites?.latest(id)
    if (outboxed && (inL3 === undefined || inL3.version < outboxed.version)) {
      if (inL2 === undefined || inL2.version <= outboxed.version) {
        return { kind: 'pending', version: outboxed.version, deleted: outboxed.item === null }
      }
    } else if (outboxed) this.parts.outboxWrites!.settled(id, inL3!.version)
    const now = platform.now()
    const inL2Live = isLive(inL2, now)
    const inL3Live = isLive(inL3, now)
    const newest = Math.max(inL3Live ? inL3.version : 0, inL2Live ? inL2.version : 0)
    const inL1Live = inL1?.item != null && inL1.version >= newest
    if (!inL1Live && !inL2Live && !inL3Live) return { kind: 'missing' }
    const version = Math.max(newest, inL1Live ? inL1!.version : 0)
    return { kind: 'synced', version, l1: inL1Live, l2: inL2Live, l3: inL3Live }
  }

  /**
   * L1's entry for a write or record: its own expiry, bounded by L1's staleness when a tier is
   * shared (another instance may write a newer version meanwhile).
   */
  l1EntryOf(entry: L1Entry, now: number): L1Entry {
    const ttl = this.parts.l1TtlMs()
    if (ttl === undefined) return entry
    return {
      id: entry.id,
      item: entry.item,
      version: entry.version,
      expiresAt: earliest(entry.expiresAt, now + ttl),
    }
  }

  /** No pending write, none parked, and the filter certainly lacks the id (asked and counted here). */
  #absentByFilter(id: string, pending: PendingWrite | undefined): boolean {
    return pending === undefined && !this.parts.log?.parked.has(id) && this.parts.filter.certainlyAbsent(id)
  }

  /** `absenceChecked`: the caller applied `#absentByFilter` to these ids just now (it said no). */
  async #resolve(
    ids: readonly string[],
    mode: Mode,
    options: ResolveOptions,
    absenceChecked = false,
  ): Promise<Map<string, Slot>> {
    const { queue, log, races, platform } = this.parts
    const slots = new Map<string, Slot>()
    const parked: Slot[] = []
    const misses: Slot[] = []
    const now = platform.now()
    for (const id of ids) {
      if (slots.has(id)) continue
      const slot: Slot = {
        id,
        pending: undefined,
        record: undefined,
        done: false,
        item: undefined,
        parked: false,
      }
      slots.set(id, slot)
      if (!options.l1Checked && this.#fromL1(slot, options.verify)) continue
      validateId(id)
      const pending = this.#visible(queue.lookup(id))
      if (pending && !pending.callerVersioned)
        this.#servePending(slot, pending, 'queue', mode, now, undefined)
      else if (!absenceChecked && this.#absentByFilter(id, pending)) slot.done = true
      else if (log?.parked.has(id)) parked.push(slot)
      else {
        slot.pending = pending
        misses.push(slot)
      }
    }
    if (parked.length === 0 && misses.length === 0) return slots
    const ticket = races.begin()
    try {
      for (const slot of parked) {
        const write = await log!.parkedWrite(slot.id)
        if (write && !write.callerVersioned && !this.parts.l2) {
          this.#servePending(slot, write, 'wal', mode, now, ticket)
        } else {
          slot.pending = newer(slot.pending, write)
          slot.parked = write !== undefined && !write.callerVersioned
          misses.push(slot)
        }
      }
      if (misses.length > 0) await this.#fromTiers(misses, mode, options, ticket)
    } finally {
      races.end(ticket)
    }
    return slots
  }

  /** An L1 hit (a verified read drops an entry whose content fails its hash, and reads on). */
  #fromL1(slot: Slot, verify: boolean | undefined): boolean {
    const entry = this.parts.l1.get(slot.id)
    this.parts.metrics.tierRead('l1', entry !== undefined)
    if (entry === undefined) return false
    if (verify && entry.item !== null && !hashMatches(entry.item)) {
      this.parts.l1.delete(slot.id)
      return false
    }
    slot.item = entry.item ?? undefined
    slot.done = true
    return true
  }

  /**
   * Answers from a write not stored yet (read your writes). Writes go around L1; the first read of
   * a pending write makes it hot — unless a newer write of the id came while this read waited (for
   * the log), which L1 would then hide.
   */
  #servePending(
    slot: Slot,
    write: PendingWrite,
    tier: 'queue' | 'wal',
    mode: Mode,
    now: number,
    ticket: number | undefined,
  ): void {
    this.parts.metrics.tierRead(tier, true)
    slot.done = true
    if (write.expiresAt !== 0 && write.expiresAt <= now) return
    slot.item = write.item ?? undefined
    if (mode === 'items' && (ticket === undefined || !this.parts.races.raced(ticket, slot.id))) {
      this.parts.l1.set(this.l1EntryOf(write, now))
    }
  }

  /** A parked write L2 has nothing newer than: the answer, as it was made (read your writes). */
  #serveParked(slot: Slot, mode: Mode, now: number, ticket: number): void {
    const write = newer(slot.pending, this.#visible(this.parts.queue.lookup(slot.id)))!
    this.#servePending(slot, write, 'wal', mode, now, ticket)
  }

  async #fromTiers(
    misses: readonly Slot[],
    mode: Mode,
    options: ResolveOptions,
    ticket: number,
  ): Promise<void> {
    const { l2, l3, filter, metrics, platform } = this.parts
    const ids = misses.map((slot) => slot.id)
    let needL3: Slot[] = misses as Slot[]
    if (l2) {
      const found = mode === 'items' ? await l2.read(ids, options.verify) : await l2.head(ids)
      needL3 = []
      for (const slot of misses) {
        const record = found.get(slot.id)
        const older =
          record === undefined || (slot.pending !== undefined && slot.pending.version > record.version)
        if (slot.parked) {
          if (older) this.#serveParked(slot, mode, platform.now(), ticket)
          else slot.record = record
          continue
        }
        slot.record = record
        if (older) needL3.push(slot)
      }
      metrics.tierReads('l2', found.size, misses.length - found.size)
    }
    if (l3 && needL3.length > 0) {
      const l3Ids = needL3.length === misses.length ? ids : needL3.map((slot) => slot.id)
      const found = mode === 'items' ? await l3.read(l3Ids) : await l3.head(l3Ids)
      const backfill: StoredRecord[] = []
      metrics.tierReads('l3', found.size, needL3.length - found.size)
      for (const slot of needL3) {
        const record = found.get(slot.id)
        if (record === undefined) continue
        if (options.verify) verifyRecord(record as StoredRecord)
        slot.record = record
        if (mode === 'items') backfill.push(record as StoredRecord)
      }
      if (l2 && backfill.length > 0) l2.backfill(backfill, platform.now(), options.scope)
    }
    if (filter.trusted)
      for (const slot of misses) if (!slot.parked) filter.recordMaybe(slot.record !== undefined)
    const settledAt = platform.now()
    for (const slot of misses) if (!slot.done) this.#settle(slot, mode, settledAt, ticket)
  }

  /**
   * Takes a tier's answer, preferring a newer write that arrived during the read (or the pending
   * write it was compared with), and back-fills L1 with a live item — unless a write of the id
   * raced the read. Strictly newer: at an equal version every tier keeps the first writer.
   */
  #settle(slot: Slot, mode: Mode, now: number, ticket: number): void {
    slot.done = true
    const record = slot.record
    const pending = newer(slot.pending, this.#visible(this.parts.queue.lookup(slot.id)))
    if (pending && (!record || pending.version > record.version)) {
      slot.record = undefined
      if (pending.expiresAt === 0 || pending.expiresAt > now) slot.item = pending.item ?? undefined
      return
    }
    // HLC rule: a version seen from elsewhere (another writer of the same tiers) moves our clock past it.
    if (record) this.parts.clock.observe(record.version)
    if (mode === 'heads' || !isLive(record, now)) return
    const item = itemOf(record as StoredRecord)
    slot.item = item
    if (this.parts.races.raced(ticket, slot.id)) return
    this.parts.l1.set(
      this.l1EntryOf({ id: slot.id, item, version: item.version, expiresAt: record.expiresAt ?? 0 }, now),
    )
  }

  /** Pending writes reads may see: not a conditional one (it has not happened until its tier agrees). */
  #visible(write: PendingWrite | undefined): PendingWrite | undefined {
    return write?.condition === undefined ? write : undefined
  }
}

function newer(a: PendingWrite | undefined, b: PendingWrite | undefined): PendingWrite | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return b.version > a.version ? b : a
}

function hashMatches(item: SyncItem): boolean {
  return sha256Hex(item.content) === item.hash
}

/** L3 is the ground truth: content that fails its hash there has no good copy to fall back on. */
function verifyRecord(record: StoredRecord): void {
  if (record.tombstone || record.content === null) return
  const actual = sha256Hex(record.content)
  if (actual !== record.hash) throw new CorruptionError(record.id, record.hash, actual)
}
