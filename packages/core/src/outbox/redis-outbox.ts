import {
  BackendError,
  InvalidArgumentError,
  LogTargetMismatchError,
  StaleVersionError,
  type SyncError,
  WalFullError,
} from '../errors.ts'
import { replyArray, replyInteger, replyText } from '../l2/redis-reply.ts'
import type { RedisReply } from '../l2/redis-transport.ts'
import type { PendingWrite, WalStats } from '../log/write-ahead-log.ts'
import { l2EntryOf } from '../tiers/records.ts'
import { outboxFieldsOf } from './outbox-entry.ts'
import {
  APPEND_STALE,
  dropIfVersionScript,
  leaseReleaseScript,
  leaseRenewScript,
  MODE_BOTH,
  MODE_CACHE,
} from './outbox-scripts.ts'
import {
  type AppendWrite,
  appendCall,
  type OutboxRedis,
  OutboxShardLog,
  shardKeys,
} from './outbox-shard-log.ts'

export interface RedisOutboxOptions {
  /** The bound of the whole outbox in bytes, split evenly over the shards. */
  readonly maxBytes: number
}

/** What became of one write put through the outbox. */
export type OutboxOutcome =
  | {
      readonly ok: true
      /** The version it was written at: its own, or raised above the one L2 held. */
      readonly version: number
      /** L2 held a live item of the id (a delete found it). */
      readonly replacedLive: boolean
    }
  | { readonly ok: false; readonly error: SyncError }

/**
 * The write-ahead log of serverless deployments, kept in L2: `ack: 'logged'` means the item is in
 * L2 and its entry in the outbox, written together by one script (so an instance that never saw
 * the write reads it back from L2 before any flusher ran). One shard per hash tag of the key
 * layout (`RedisKeyLayout.shards`): an item key and its shard share a slot on a cluster, and no
 * one Redis node carries every append. A scheduled flusher drains the shards into L3
 * (`flushOutbox`), each under a lease.
 */
export class RedisOutbox {
  readonly shards: readonly OutboxShardLog[]

  constructor(
    private readonly redis: OutboxRedis,
    options: RedisOutboxOptions,
  ) {
    const { maxBytes } = options
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new InvalidArgumentError(`maxBytes must be a positive integer, got ${String(maxBytes)}`)
    }
    const count = redis.keys.shards
    const perShard = Math.max(1, Math.floor(maxBytes / count))
    this.shards = Array.from({ length: count }, (_, shard) => new OutboxShardLog(redis, shard, perShard))
  }

  #target = ''

  get driver(): string {
    return 'redis-outbox'
  }

  /**
   * The L3 this writer's entries are for (`L3Store.identity`): every append checks it against the
   * shard's, refused with `LogTargetMismatchError` when the shard holds another (taken when it
   * holds none), so no writer adds entries for another database than the one its shard drains to.
   */
  useTarget(target: string): void {
    this.#target = target
  }

  /**
   * For a flusher: refuses (`LogTargetMismatchError`) when a shard is tied to another L3 than
   * `target`, even an empty one — a flusher never re-ties an outbox (writers do, at their first
   * append to an untied shard).
   */
  async verify(target: string): Promise<void> {
    await this.open()
    for (const shard of this.shards) {
      const held = shard.heldTarget
      if (held !== undefined && held !== target) {
        throw new LogTargetMismatchError(held, target, shard.stats().entries)
      }
    }
  }

  /** Opens every shard in one round trip. */
  async open(): Promise<void> {
    const commands = this.shards.map((shard) => shard.openCommands())
    const replies = await this.redis.pipeline(commands.flat())
    let at = 0
    commands.forEach((asked, index) => {
      this.shards[index]!.opened(replies.slice(at, at + asked.length))
      at += asked.length
    })
  }

  /** Ties every shard to the L3 its writes are for (see `WriteAheadLog.bind`), in one round trip. */
  async bind(target: string): Promise<void> {
    const replies = await this.redis.scripts.run(this.shards.map((shard) => shard.bindCall(target)))
    this.shards.forEach((shard, index) => {
      shard.bound(target, replies[index] ?? null)
    })
  }

  /**
   * Writes each item (or tombstone) to L2 and, when it is bound for L3, its entry to the outbox:
   * per shard one script, all shards in one round trip. Outcomes in input order: a caller's version
   * at or below the one L2 holds is refused as stale; a shard past its bound refuses its writes
   * (`WalFullError`), the others go on. `now` is the time TTLs are counted from.
   */
  async put(writes: readonly PendingWrite[], now: number): Promise<OutboxOutcome[]> {
    const outcomes: OutboxOutcome[] = new Array(writes.length)
    const byShard = new Map<number, { indexes: number[]; writes: AppendWrite[] }>()
    writes.forEach((write, index) => {
      if (!write.route.l2)
        throw new InvalidArgumentError('a write kept out of L2 does not go through the outbox')
      const entry = l2EntryOf(write, now)
      const mode = write.route.l3 ? MODE_BOTH : MODE_CACHE
      const shard = this.redis.keys.shardOf(write.id)
      let group = byShard.get(shard)
      if (group === undefined) {
        group = { indexes: [], writes: [] }
        byShard.set(shard, group)
      }
      group.indexes.push(index)
      group.writes.push({ fields: outboxFieldsOf(write), mode, ttlMs: this.redis.ttlOf(entry) })
    })
    if (byShard.size === 0) return outcomes
    const groups = [...byShard]
    const replies = await this.redis.scripts.run(
      groups.map(([shard, group]) =>
        appendCall(this.redis, shard, group.writes, this.shards[shard]!.maxBytes, this.#target),
      ),
    )
    groups.forEach(([shard, group], call) => {
      this.#settle(shard, group, replies[call] ?? null, writes, outcomes)
    })
    return outcomes
  }

  #settle(
    shard: number,
    group: { indexes: number[]; writes: AppendWrite[] },
    reply: RedisReply,
    writes: readonly PendingWrite[],
    outcomes: OutboxOutcome[],
  ): void {
    const log = this.shards[shard]!
    if (reply instanceof Error) {
      const error = new BackendError('l2', `outbox shard ${shard}: ${reply.message}`, { cause: reply })
      for (const index of group.indexes) outcomes[index] = { ok: false, error }
      return
    }
    const parts = replyArray(reply, 'the outbox append')
    if (replyText(parts[0] ?? null, 'the outbox append') === 'mismatch') {
      const held = replyText(parts[1] ?? null, 'the outbox append')
      const error = new LogTargetMismatchError(held, this.#target, log.stats().entries)
      for (const index of group.indexes) outcomes[index] = { ok: false, error }
      return
    }
    log.noteCounts(parts)
    if (replyText(parts[0] ?? null, 'the outbox append') === 'full') {
      const adding = group.writes.reduce((sum, { fields }) => sum + fields.bytes, 0)
      const error = new WalFullError(log.stats().bytes + adding, log.maxBytes)
      for (const index of group.indexes) outcomes[index] = { ok: false, error }
      return
    }
    group.indexes.forEach((index, i) => {
      const status = replyInteger(parts[3 + 3 * i] ?? null, 'the outbox append')
      const version = replyInteger(parts[4 + 3 * i] ?? null, 'the outbox append')
      const write = writes[index]!
      outcomes[index] =
        status === APPEND_STALE
          ? { ok: false, error: new StaleVersionError(write.id, write.version, version) }
          : {
              ok: true,
              version,
              replacedLive: replyInteger(parts[5 + 3 * i] ?? null, 'the outbox append') === 1,
            }
    })
  }

  /**
   * Deletes the L2 copies of writes L3 found superseded, each only while L2 still holds that
   * version: L2 then serves L3's newer record (read back on the next miss) instead of an older one.
   */
  async dropSuperseded(writes: readonly { id: string; version: number }[]): Promise<number> {
    if (writes.length === 0) return 0
    const calls = writes.map(({ id, version }) => ({
      script: dropIfVersionScript,
      keys: [this.redis.keys.itemKey(id)],
      args: [version],
    }))
    const replies = await this.redis.scripts.run(calls)
    return replies.reduce<number>(
      (sum, reply) => sum + (reply instanceof Error ? 0 : replyInteger(reply, 'drop')),
      0,
    )
  }

  /** Takes a shard's lease for `ms` unless another holder has it: true when taken. */
  async lease(shard: number, token: string, ms: number): Promise<boolean> {
    const reply = await this.redis.send(['SET', this.#leaseKey(shard), token, 'NX', 'PX', Math.ceil(ms)])
    return reply !== null
  }

  /** Extends a lease that is still this holder's; false when it expired and may have been taken. */
  async renew(shard: number, token: string, ms: number): Promise<boolean> {
    const [reply] = await this.redis.scripts.run([
      { script: leaseRenewScript, keys: [this.#leaseKey(shard)], args: [token, String(Math.ceil(ms))] },
    ])
    return replyInteger(reply ?? null, 'the lease renewal') === 1
  }

  /** Gives a lease back if it is still this holder's (it may have expired and been taken). */
  async release(shard: number, token: string): Promise<void> {
    await this.redis.scripts.run([
      { script: leaseReleaseScript, keys: [this.#leaseKey(shard)], args: [token] },
    ])
  }

  #leaseKey(shard: number): string {
    return this.redis.keys.shardKey(shard, 'o:lease')
  }

  /** Entries in every shard now, asked of Redis (one round trip; other writers' appends included). */
  async countEntries(): Promise<number> {
    // One round trip for every shard (on Upstash, separate sends are separate HTTP requests).
    const replies = await this.redis.pipeline(
      this.shards.map((shard) => ['XLEN', shardKeys(this.redis.keys, shard.shard)[0]!]),
    )
    return replies.reduce<number>((sum, reply) => sum + replyInteger(reply, 'XLEN'), 0)
  }

  /** The shards' counts together (what each last heard from Redis; no I/O). */
  stats(): WalStats {
    let entries = 0
    let bytes = 0
    let maxBytes = 0
    for (const shard of this.shards) {
      const stats = shard.stats()
      entries += stats.entries
      bytes += stats.bytes
      maxBytes += stats.maxBytes
    }
    return { entries, bytes, maxBytes }
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.close()))
  }
}
