import { type HybridLogicalClock, versionTimeMs } from '../clock/hybrid-clock.ts'
import {
  InvalidArgumentError,
  NoTierError,
  PayloadTooLargeError,
  PreconditionFailedError,
  StaleVersionError,
} from '../errors.ts'
import { validateId } from '../item/item-id.ts'
import { SyncItem } from '../item/sync-item.ts'
import { type L1Cache, l1EntryBytes } from '../l1/l1-cache.ts'
import type { LogKeeper } from '../log/log-keeper.ts'
import type { Route, SubmitOptions } from '../options/submit-options.ts'
import { validateSubmitOptions } from '../options/submit-options.ts'
import type { Platform } from '../platform/platform.ts'
import type { QueuedWrite } from '../queue/queued-write.ts'
import type { WriteQueue } from '../queue/write-queue.ts'
import type { RacingWrites } from '../read/racing-writes.ts'
import type { ReadResolver } from '../read/read-resolver.ts'

/** Routes of writes without a TTL: shared, not allocated per write. */
const L3_ONLY: Route = Object.freeze({ l2: false, l3: true, ttlMs: undefined })
const L2_ONLY: Route = Object.freeze({ l2: true, l3: false, ttlMs: undefined })
const L2_AND_L3: Route = Object.freeze({ l2: true, l3: true, ttlMs: undefined })

export interface WritePreparerParts {
  readonly hasL2: boolean
  readonly hasL3: boolean
  readonly platform: Platform
  readonly clock: HybridLogicalClock
  readonly l1: L1Cache
  readonly queue: WriteQueue
  readonly log: LogKeeper | undefined
  readonly races: RacingWrites
  readonly resolver: ReadResolver
  /** The largest item accepted now (the configured limit, or L3's if lower). */
  readonly payloadLimit: () => number
}

/** Options of a delete. */
export type DeleteOptions = Pick<SubmitOptions, 'ack' | 'ifVersion'>

/**
 * Turns a caller's item (or delete) into a queued write: validated before any side effect (one
 * bad item never blocks a batch), routed against the tiers this engine has (a write routed only to
 * absent tiers is a `NoTierError`, never kept silently in memory), versioned by the hybrid logical
 * clock (or the caller's version, refused at once when this engine already holds a newer one of
 * the id), given its expiry, and made visible: L1 stops serving an older version of the id.
 */
export class WritePreparer {
  constructor(private readonly parts: WritePreparerParts) {}

  prepareWrite(item: SyncItem, options: SubmitOptions | undefined): QueuedWrite {
    if (!(item instanceof SyncItem)) throw new InvalidArgumentError('submit takes a SyncItem')
    if (options !== undefined) validateSubmitOptions(options)
    const size = item.content.byteLength
    const limit = this.parts.payloadLimit()
    if (size > limit) throw new PayloadTooLargeError(size, limit)
    const route = this.#route(options)
    const callerVersioned = item.version > 0
    if (callerVersioned) this.#refuseIfStale(item.id, item.version)
    const condition = this.#condition(item.id, options?.ifVersion)
    const version = callerVersioned ? this.#observed(item.version) : this.parts.clock.next()
    const updatedAt = callerVersioned ? this.parts.platform.now() : versionTimeMs(version)
    let stored = item.withVersion(version, updatedAt)
    if (options?.state !== undefined) stored = stored.withState(options.state)
    const write: QueuedWrite = {
      id: stored.id,
      version,
      updatedAt,
      item: stored,
      route,
      bytes: stored.footprintBytes,
      callerVersioned,
      expiresAt: route.ttlMs === undefined ? 0 : updatedAt + route.ttlMs,
      ...(condition !== undefined && { condition }),
    }
    if (condition === undefined) this.makeVisible(write)
    return write
  }

  prepareDelete(id: string, options: DeleteOptions | undefined): QueuedWrite {
    validateId(id)
    if (options !== undefined) validateSubmitOptions(options)
    if (!this.parts.hasL3 && !this.parts.hasL2) {
      throw new NoTierError('no tier is configured to record the delete')
    }
    const condition = this.#condition(id, options?.ifVersion)
    const version = this.parts.clock.next()
    const write: QueuedWrite = {
      id,
      version,
      updatedAt: versionTimeMs(version),
      item: null,
      // A delete goes to every tier the engine has.
      route: this.parts.hasL2 ? (this.parts.hasL3 ? L2_AND_L3 : L2_ONLY) : L3_ONLY,
      bytes: 0,
      callerVersioned: false,
      expiresAt: 0,
      ...(condition !== undefined && { condition }),
    }
    const tombstone = { ...write, bytes: l1EntryBytes(write) }
    if (condition === undefined) this.makeVisible(tombstone)
    return tombstone
  }

  /**
   * L1 must not go on serving a version older than this write (write-around: it is not admitted),
   * and reads in flight learn of it. A logged write is made visible again once it is queued: a read
   * in between found it nowhere and may have put an older version into L1.
   */
  makeVisible(write: QueuedWrite): void {
    const { l1, races } = this.parts
    if (!write.callerVersioned) {
      // Most writes find no copy to replace (L1 is write-around): no entry built, no clock read.
      if (l1.peek(write.id) !== undefined) {
        l1.replaceIfPresent(this.parts.resolver.l1EntryOf(write, this.parts.platform.now()))
      }
    } else {
      // Possibly older than what L3 holds: not served from L1 until a read compared it with L3;
      // an older L1 entry must not be served either.
      const cached = l1.peek(write.id)
      if (cached !== undefined && cached.version < write.version) l1.delete(write.id)
    }
    races.noteWrite(write.id)
  }

  /**
   * What this engine knows, without I/O, of whether `id` holds a live item: its pending write,
   * else its L1 entry, else a trusted filter's "absent". Undefined when only a tier could say.
   */
  knownLive(id: string, trustedAbsent: (id: string) => boolean): boolean | undefined {
    const pending = this.parts.queue.lookup(id) ?? this.parts.log?.parked.heldLatest(id)
    if (pending !== undefined && pending.condition === undefined) {
      return (
        pending.item !== null && (pending.expiresAt === 0 || pending.expiresAt > this.parts.platform.now())
      )
    }
    if (pending === undefined && this.parts.log?.parked.has(id)) return undefined
    const cached = this.parts.l1.peek(id)
    if (cached !== undefined) return cached.item !== null
    return trustedAbsent(id) ? false : undefined
  }

  /** A caller's version at or below one this engine already holds for the id cannot be stored. */
  #refuseIfStale(id: string, version: number): void {
    const known = Math.max(
      this.parts.queue.lookup(id)?.version ?? 0,
      this.parts.log?.parked.get(id) ?? 0,
      this.parts.l1.peek(id)?.version ?? 0,
    )
    if (known >= version) throw new StaleVersionError(id, version, known)
  }

  /**
   * The condition of a conditional write, refused at once when this engine's own pending write of
   * the id already contradicts it (the tier checks it again, atomically, when the write is applied).
   */
  #condition(id: string, ifVersion: number | undefined): number | undefined {
    if (ifVersion === undefined) return undefined
    const pending = this.parts.queue.lookup(id)
    if (pending !== undefined && pending.condition === undefined) {
      const live = pending.item !== null
      const current = live ? pending.version : 0
      if (ifVersion !== current) throw new PreconditionFailedError(id, ifVersion, current)
    }
    return ifVersion
  }

  #observed(version: number): number {
    this.parts.clock.observe(version)
    return version
  }

  #route(options: SubmitOptions | undefined): Route {
    const wantsL2 = options?.redis ?? true
    const wantsL3 = options?.sql ?? true
    const l2 = wantsL2 && this.parts.hasL2
    const l3 = wantsL3 && this.parts.hasL3
    if (!l2 && !l3) {
      const asked = [wantsL2 && 'redis', wantsL3 && 'sql'].filter(Boolean).join(' and ') || 'no tier'
      throw new NoTierError(`write is routed to ${asked}, which this engine does not have`)
    }
    const ttlMs = options?.redisTtl
    if (ttlMs === undefined) return l2 ? (l3 ? L2_AND_L3 : L2_ONLY) : L3_ONLY
    return { l2, l3, ttlMs }
  }
}
