import { BackendError, InvalidArgumentError, LogTargetMismatchError, WalFullError } from '../errors.ts'
import { encodeEnvelope } from '../l2/envelope.ts'
import type { RedisKeyLayout } from '../l2/key-layout.ts'
import type { L2WriteEntry } from '../l2/l2-store.ts'
import { replyArray, replyInteger, replyText } from '../l2/redis-reply.ts'
import type { RedisCommand, RedisReply } from '../l2/redis-transport.ts'
import type { ScriptCall, ScriptRunner } from '../l2/script-runner.ts'
import { envelopeForTextWire } from '../l2/text-wire.ts'
import type { PendingWrite, SettledWrite, WalEntry, WalStats, WriteAheadLog } from '../log/write-ahead-log.ts'
import { type OutboxEntryFields, outboxFieldsOf, walEntryOf } from './outbox-entry.ts'
import {
  MODE_LOG,
  outboxAppendScript,
  outboxAppendScriptText,
  outboxBindScript,
  outboxRemoveEntriesScript,
  outboxRemoveThroughScript,
} from './outbox-scripts.ts'

/** What the outbox needs of the Redis it lives in: the store's layout, scripts and error policy. */
export interface OutboxRedis {
  readonly keys: RedisKeyLayout
  readonly scripts: ScriptRunner
  /** The transport carries text only: envelopes go as base64. */
  readonly textOnly: boolean
  send(command: RedisCommand): Promise<RedisReply>
  pipeline(commands: readonly RedisCommand[]): Promise<RedisReply[]>
  /** The TTL an entry is written with in L2 (tombstones get their retention), '0'-able. */
  ttlOf(entry: L2WriteEntry): number
}

/** Entries a removal script takes at a time: a script blocks Redis, so a long trim is many short ones. */
const REMOVE_CHUNK = 2_000

/** One write of an append call: the entry's fields, its mode, and where it goes in L2. */
export interface AppendWrite {
  readonly fields: OutboxEntryFields
  readonly mode: string
  readonly ttlMs: number
}

/** The append script call of one shard (`MODE_*` per write); see outbox-scripts.ts for its reply. */
export function appendCall(
  redis: OutboxRedis,
  shard: number,
  writes: readonly AppendWrite[],
  maxBytes: number,
  target: string,
): ScriptCall {
  const keys = [...shardKeys(redis.keys, shard), redis.keys.shardKey(shard, 'o:target')]
  const args: (string | number | Uint8Array)[] = [maxBytes, target]
  for (const { fields, mode, ttlMs } of writes) {
    const envelope = encodeEnvelope(fields.record)
    keys.push(redis.keys.itemKey(fields.id))
    args.push(
      mode,
      fields.version,
      redis.textOnly
        ? envelopeForTextWire(envelope, fields.record.contentType === 'json' && !fields.record.tombstone)
        : envelope,
      ttlMs,
      fields.callerVersioned,
      fields.bytes,
      fields.route,
      fields.id,
      fields.updatedAt,
    )
  }
  return { script: redis.textOnly ? outboxAppendScriptText : outboxAppendScript, keys, args }
}

/** The keys every outbox script of a shard starts with, in their KEYS order. */
export function shardKeys(keys: RedisKeyLayout, shard: number): readonly string[] {
  return [keys.shardKey(shard, 'o:log'), keys.shardKey(shard, 'o:seq'), keys.shardKey(shard, 'o:bytes')]
}

/** Entries a scan reads per XRANGE (the by-id operations below). */
const SCAN_PAGE = 1_000

interface PendingAppend {
  readonly call: ScriptCall
  readonly bytes: number
  resolve(): void
  reject(error: unknown): void
}

type Lifecycle = 'new' | 'open' | 'closed'

/**
 * One shard of the Redis outbox as a write-ahead log: a stream of entries under the shard's hash
 * tag, with a seq counter and a byte count kept beside it by the same scripts. The
 * flusher drains a shard through the log drain like any other log; the engine's outbox writes
 * (item and entry in one script) land in the same stream (`RedisOutbox`).
 *
 * Seqs come from the shard's counter inside the script that adds the entry, so seq order is commit
 * order even with many writers: a drain that removes through the last seq it read never removes
 * an entry it did not read. Appends issued in the same tick go in one pipeline, in call order.
 * `stats()` is what the last reply of a script said (no I/O): other writers' appends show up at
 * this process's next call.
 */
export class OutboxShardLog implements WriteAheadLog {
  readonly driver: string
  readonly #keys: readonly string[]
  readonly #targetKey: string
  #state: Lifecycle = 'new'
  #entries = 0
  #bytes = 0
  #target: string | undefined
  #pending: PendingAppend[] = []

  constructor(
    private readonly redis: OutboxRedis,
    readonly shard: number,
    readonly maxBytes: number,
  ) {
    this.driver = `redis-outbox shard ${shard}`
    this.#keys = shardKeys(redis.keys, shard)
    this.#targetKey = redis.keys.shardKey(shard, 'o:target')
  }

  get target(): string | undefined {
    return this.#target
  }

  async open(): Promise<void> {
    if (this.#state === 'closed') throw this.#unusable('open')
    this.opened(await this.redis.pipeline(this.openCommands()))
  }

  /** What `open` asks of Redis: several shards open in one round trip (`RedisOutbox.open`). */
  openCommands(): RedisCommand[] {
    return [
      ['XLEN', this.#keys[0]!],
      ['GET', this.#keys[2]!],
      ['GET', this.#targetKey],
    ]
  }

  /** Takes the replies to `openCommands`. */
  opened([entries, bytes, target]: readonly RedisReply[]): void {
    if (this.#state === 'closed') throw this.#unusable('open')
    this.#entries = replyInteger(this.#throwIfError(entries ?? null), 'XLEN')
    this.#bytes =
      bytes === null || bytes === undefined ? 0 : Number(replyText(this.#throwIfError(bytes), 'GET'))
    this.#target =
      target === null || target === undefined ? undefined : replyText(this.#throwIfError(target), 'GET')
    this.#state = 'open'
  }

  async bind(target: string): Promise<void> {
    const [reply] = await this.redis.scripts.run([this.bindCall(target)])
    this.bound(target, reply ?? null)
  }

  /** The target this shard holds, as the last open or write heard it. */
  get heldTarget(): string | undefined {
    return this.#target
  }

  /** The bind script call (several shards bind in one round trip: `RedisOutbox.bind`). */
  bindCall(target: string): ScriptCall {
    this.#usable('bind')
    if (typeof target !== 'string' || target === '') {
      throw new InvalidArgumentError('a log is bound to a non-empty L3 identity')
    }
    return { script: outboxBindScript, keys: [...this.#keys, this.#targetKey], args: [target] }
  }

  /** Takes the reply to `bindCall`. */
  bound(target: string, reply: RedisReply): void {
    const parts = replyArray(this.#throwIfError(reply), 'the outbox bind')
    if (replyText(parts[0] ?? null, 'the outbox bind') === 'mismatch') {
      throw new LogTargetMismatchError(replyText(parts[1] ?? null, 'the outbox bind'), target, this.#entries)
    }
    this.#counts(parts)
    this.#target = target
  }

  append(writes: readonly PendingWrite[]): Promise<void> {
    try {
      this.#usable('append')
      if (writes.length === 0) return Promise.resolve()
      const batch = writes.map((write) => ({ fields: outboxFieldsOf(write), mode: MODE_LOG, ttlMs: 0 }))
      const call = appendCall(this.redis, this.shard, batch, this.maxBytes, this.#target ?? '')
      const bytes = batch.reduce((sum, { fields }) => sum + fields.bytes, 0)
      return new Promise<void>((resolve, reject) => {
        if (this.#pending.length === 0) queueMicrotask(() => void this.#commit())
        this.#pending.push({ call, bytes, resolve, reject })
      })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Sends the appends of this tick in one pipeline; each is all or nothing on its own. */
  async #commit(): Promise<void> {
    const pending = this.#pending
    this.#pending = []
    if (pending.length === 0) return
    let replies: RedisReply[]
    try {
      replies = await this.redis.scripts.run(pending.map(({ call }) => call))
    } catch (error) {
      for (const append of pending) append.reject(error)
      return
    }
    pending.forEach((append, index) => {
      try {
        const parts = replyArray(this.#throwIfError(replies[index] ?? null), 'the outbox append')
        if (replyText(parts[0] ?? null, 'the outbox append') === 'mismatch') {
          throw new LogTargetMismatchError(
            replyText(parts[1] ?? null, 'the outbox append'),
            this.#target ?? '',
            this.#entries,
          )
        }
        this.#counts(parts)
        if (replyText(parts[0] ?? null, 'the outbox append') === 'full') {
          throw new WalFullError(this.#bytes + append.bytes, this.maxBytes)
        }
        append.resolve()
      } catch (error) {
        append.reject(error)
      }
    })
  }

  async read(afterSeq: number, limit: number): Promise<WalEntry[]> {
    this.#usable('read')
    for (const [name, value] of [
      ['afterSeq', afterSeq],
      ['limit', limit],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new InvalidArgumentError(`${name} must be a non-negative integer, got ${value}`)
      }
    }
    if (limit === 0) return []
    const reply = await this.redis.send(['XRANGE', this.#keys[0]!, `(0-${afterSeq}`, '+', 'COUNT', limit])
    return replyArray(reply, 'XRANGE').map(walEntryOf)
  }

  /**
   * Scans the shard for the entries to remove (no index by id is kept: the flusher removes by
   * range, and an index cost a hash update per append and per removal), then removes them.
   */
  async remove(settled: readonly SettledWrite[]): Promise<void> {
    this.#usable('remove')
    if (settled.length === 0) return
    const upTo = new Map<string, number>()
    for (const { id, version } of settled) upTo.set(id, Math.max(version, upTo.get(id) ?? 0))
    const doomed: string[] = []
    await this.#scan((entry) => {
      const limit = upTo.get(entry.write.id)
      if (limit !== undefined && entry.write.version <= limit) doomed.push(`0-${entry.seq}`)
    })
    for (let at = 0; at < doomed.length; at += REMOVE_CHUNK) {
      await this.#removal({
        script: outboxRemoveEntriesScript,
        keys: this.#keys,
        args: doomed.slice(at, at + REMOVE_CHUNK),
      })
    }
  }

  async removeThrough(seq: number): Promise<void> {
    this.#usable('removeThrough')
    let removed: number
    do {
      removed = await this.#removal({
        script: outboxRemoveThroughScript,
        keys: this.#keys,
        args: [seq, REMOVE_CHUNK],
      })
    } while (removed === REMOVE_CHUNK)
  }

  /** A scan of the shard (see `remove`). */
  async latest(id: string): Promise<PendingWrite | undefined> {
    this.#usable('latest')
    let best: PendingWrite | undefined
    await this.#scan((entry) => {
      if (entry.write.id === id && (best === undefined || entry.write.version > best.version))
        best = entry.write
    })
    return best
  }

  async #scan(visit: (entry: WalEntry) => void): Promise<void> {
    let after = 0
    for (;;) {
      const page = await this.read(after, SCAN_PAGE)
      for (const entry of page) visit(entry)
      if (page.length < SCAN_PAGE) return
      after = page.at(-1)!.seq
    }
  }

  stats(): WalStats {
    return { entries: this.#entries, bytes: this.#bytes, maxBytes: this.maxBytes }
  }

  /** Takes the counts a script replied with (`…, bytes, entries` at positions 1 and 2). */
  noteCounts(parts: readonly RedisReply[]): void {
    this.#counts(parts)
  }

  #counts(parts: readonly RedisReply[]): void {
    this.#bytes = replyInteger(parts[1] ?? null, 'the outbox')
    this.#entries = replyInteger(parts[2] ?? null, 'the outbox')
  }

  async #removal(call: ScriptCall): Promise<number> {
    const [reply] = await this.redis.scripts.run([call])
    const parts = replyArray(this.#throwIfError(reply ?? null), 'the outbox removal')
    this.#counts(parts)
    return replyInteger(parts[0] ?? null, 'the outbox removal')
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return
    if (this.#pending.length > 0) await this.#commit()
    this.#state = 'closed'
  }

  #throwIfError(reply: RedisReply): RedisReply {
    if (reply instanceof Error)
      throw new BackendError('l2', `outbox shard ${this.shard}: ${reply.message}`, { cause: reply })
    return reply
  }

  #usable(operation: string): void {
    if (this.#state !== 'open') throw this.#unusable(operation)
  }

  #unusable(operation: string): BackendError {
    return new BackendError(
      'l2',
      `outbox shard ${this.shard} is ${this.#state === 'new' ? 'not open' : 'closed'}: ${operation} refused`,
    )
  }
}
