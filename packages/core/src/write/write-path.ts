import type { BulkResult, DeleteReceipt, SubmitReceipt } from '../engine/receipts.ts'
import { InvalidArgumentError } from '../errors.ts'
import type { FilterKeeper } from '../filter/filter-keeper.ts'
import { SyncItem } from '../item/sync-item.ts'
import type { LogKeeper } from '../log/log-keeper.ts'
import type { AckLevel, SubmitOptions } from '../options/submit-options.ts'
import type { OutboxWrites } from '../outbox/outbox-writes.ts'
import type { OutboxOutcome } from '../outbox/redis-outbox.ts'
import type { FlushOutcome, QueuedWrite } from '../queue/queued-write.ts'
import type { WriteQueue } from '../queue/write-queue.ts'
import type { WriteAdmission } from './write-admission.ts'
import { asSyncError, failureOf } from './write-failures.ts'
import type { DeleteOptions, WritePreparer } from './write-preparer.ts'

export interface WritePathParts {
  readonly preparer: WritePreparer
  readonly admission: WriteAdmission
  readonly queue: WriteQueue
  readonly log: LogKeeper | undefined
  /** The Redis outbox (serverless): `logged` writes go to L2 and the outbox in one script. */
  readonly outbox: OutboxWrites | undefined
  /**
   * No timer outlives a request (`maintenance: 'manual'`): nothing would flush a `queued` write
   * later, so it is served as `logged` (or `stored` without a log).
   */
  readonly upgradeQueued: boolean
  readonly filter: FilterKeeper
  /** The engine's `defaultAck` (live). */
  readonly defaultAck: () => AckLevel
}

type Receipt = SubmitReceipt & DeleteReceipt

/**
 * The write path: backpressure (before any side effect) → prepare (validate, route, version) →
 * the log for ack `logged` (group-committed) → the write queue. `queued` resolves once queued;
 * `logged` once the append committed; `stored` once the flush carrying the write committed — and
 * that flush goes as soon as the one before it is done (group commit), so an awaited write never
 * waits for the batch timer.
 */
export class WritePath {
  constructor(private readonly parts: WritePathParts) {}

  /**
   * Not async: a `queued` write is prepared, queued and acknowledged without a promise of its own
   * until the one it returns (an async frame per layer cost the write ~1 µs in all). Every error
   * still reaches the caller as a rejection.
   */
  submit(item: SyncItem, options: SubmitOptions | undefined): Promise<SubmitReceipt> {
    return this.#admitted(options, () => {
      const known = this.#knownLive(item instanceof SyncItem ? item.id : undefined)
      const write = this.parts.preparer.prepareWrite(item, options)
      return this.#write(write, this.#ack(options), known)
    })
  }

  delete(id: string, options: DeleteOptions | undefined): Promise<DeleteReceipt> {
    return this.#admitted(undefined, () => {
      const known = this.#knownLive(id)
      const write = this.parts.preparer.prepareDelete(id, options)
      return this.#write(write, this.#ack(options), known)
    })
  }

  /** Runs `write` once admitted (at once, unless throttled); a throw becomes the rejection. */
  #admitted(options: SubmitOptions | undefined, write: () => Receipt | Promise<Receipt>): Promise<Receipt> {
    try {
      const waiting = this.parts.admission.admit(options)
      if (waiting !== undefined) return waiting.then(write)
      const receipt = write()
      return receipt instanceof Promise ? receipt : Promise.resolve(receipt)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Writes many items; each is validated on its own, so one bad item never blocks the others. */
  async submitMany(
    items: readonly SyncItem[],
    options: SubmitOptions | undefined,
  ): Promise<BulkResult<SubmitReceipt>[]> {
    this.#refuseCondition(options)
    await this.parts.admission.admit(options)
    return this.#writeEach(items, options, (item) => this.parts.preparer.prepareWrite(item, options), idOf)
  }

  async deleteMany(
    ids: readonly string[],
    options: DeleteOptions | undefined,
  ): Promise<BulkResult<DeleteReceipt>[]> {
    this.#refuseCondition(options)
    await this.parts.admission.admit(undefined)
    return this.#writeEach(ids, options, (id) => this.parts.preparer.prepareDelete(id, options), String)
  }

  /** One prepared write to its ack level; a delete's receipt says whether it found a live item. */
  #write(write: QueuedWrite, requested: AckLevel, known: boolean | undefined): Receipt | Promise<Receipt> {
    const ack = this.#ackOf(write, requested)
    if (ack !== 'queued') return this.#writeAwaited(write, ack, known)
    this.#enqueue(write, ack)
    return receiptOf(write, ack, known)
  }

  async #writeAwaited(
    write: QueuedWrite,
    ack: Exclude<AckLevel, 'queued'> | 'outbox',
    known: boolean | undefined,
  ): Promise<Receipt> {
    if (ack === 'outbox') {
      const [outcome] = await this.parts.outbox!.put([write])
      if (!outcome!.ok) throw outcome!.error
      return outboxReceipt(write, outcome!, known)
    }
    if (ack === 'logged') await this.parts.log!.append([write])
    const done = this.#enqueue(write, ack)
    let existed = known
    if (ack === 'stored') {
      const outcome = await done
      const error = failureOf(outcome, write.id, write.version)
      if (error) throw error
      if (write.condition !== undefined) this.parts.preparer.makeVisible(write)
      existed ??= write.item === null ? (outcome.deletedLive?.has(write.id) ?? false) : undefined
    }
    return receiptOf(write, ack, existed)
  }

  /**
   * Prepares each input on its own (a bad one gets its typed error, the others go on), logs the
   * good ones in one append for `logged`, queues them, and for `stored` waits for every flush and
   * records the writes that did not make it.
   */
  async #writeEach<I>(
    inputs: readonly I[],
    options: Pick<SubmitOptions, 'ack'> | undefined,
    prepare: (input: I) => QueuedWrite,
    nameOf: (input: I) => string,
  ): Promise<BulkResult<Receipt>[]> {
    const requested = this.#ack(options)
    let ack = requested
    const prepared: { index: number; write: QueuedWrite; known: boolean | undefined }[] = []
    const viaOutbox: { index: number; write: QueuedWrite; known: boolean | undefined }[] = []
    const results: BulkResult<Receipt>[] = inputs.map((input, index) => {
      try {
        const known = this.#knownLive(nameOf(input))
        const write = prepare(input)
        const level = this.#ackOf(write, requested)
        if (level === 'outbox') {
          viaOutbox.push({ index, write, known })
          return { ok: true, id: write.id, value: receiptOf(write, 'logged', known) }
        }
        // Writes kept out of L2 are stored directly (the outbox only holds what L2 holds).
        ack = level
        prepared.push({ index, write, known })
        return { ok: true, id: write.id, value: receiptOf(write, level, known) }
      } catch (error) {
        return { ok: false, id: nameOf(input), error: asSyncError(error) }
      }
    })
    if (viaOutbox.length > 0) await this.#putEach(viaOutbox, results)
    if (ack === 'logged' && prepared.length > 0) {
      try {
        await this.parts.log!.append(prepared.map(({ write }) => write))
      } catch (error) {
        // Nothing of the append was logged (all or nothing), so none of these writes happened.
        for (const { index, write } of prepared) {
          results[index] = { ok: false, id: write.id, error: asSyncError(error, 'wal') }
        }
        return results
      }
    }
    const waits: Promise<void>[] = []
    for (const { index, write, known } of prepared) {
      const done = this.#enqueue(write, ack)
      if (ack !== 'stored') continue
      waits.push(
        done.then((outcome) => {
          const error = failureOf(outcome, write.id, write.version)
          if (error) results[index] = { ok: false, id: write.id, error }
          else if (write.item === null && known === undefined) {
            const existed = outcome.deletedLive?.has(write.id) ?? false
            results[index] = { ok: true, id: write.id, value: receiptOf(write, ack, existed) }
          }
        }),
      )
    }
    await Promise.all(waits)
    return results
  }

  /** Bulk writes through the outbox: one call, each write's own outcome in its result. */
  async #putEach(
    writes: readonly { index: number; write: QueuedWrite; known: boolean | undefined }[],
    results: BulkResult<Receipt>[],
  ): Promise<void> {
    let outcomes: Awaited<ReturnType<OutboxWrites['put']>>
    try {
      outcomes = await this.parts.outbox!.put(writes.map(({ write }) => write))
    } catch (error) {
      for (const { index, write } of writes)
        results[index] = { ok: false, id: write.id, error: asSyncError(error, 'l2') }
      return
    }
    writes.forEach(({ index, write, known }, at) => {
      const outcome = outcomes[at]!
      results[index] = outcome.ok
        ? { ok: true, id: write.id, value: outboxReceipt(write, outcome, known) }
        : { ok: false, id: write.id, error: outcome.error }
    })
  }

  /** How one prepared write is acknowledged: `outbox` is `logged` through the Redis outbox. */
  #ackOf(write: QueuedWrite, ack: AckLevel): AckLevel | 'outbox' {
    if (ack !== 'logged' || !this.parts.outbox || write.condition !== undefined) return ack
    // The outbox holds only what L2 holds (so every instance reads it back from L2): a write
    // kept out of L2 is stored directly.
    return write.route.l2 ? 'outbox' : this.parts.log ? 'logged' : 'stored'
  }

  /** Queues a prepared write; a logged one is made visible again now that it is queued. */
  #enqueue(write: QueuedWrite, ack: AckLevel): Promise<FlushOutcome> {
    const done = this.parts.queue.enqueue(write, ack === 'stored')
    if (ack === 'logged') this.parts.preparer.makeVisible(write)
    return done
  }

  #ack(options: Pick<SubmitOptions, 'ack' | 'ifVersion'> | undefined): AckLevel {
    if (options?.ifVersion !== undefined) return 'stored'
    const asked = options?.ack ?? this.parts.defaultAck()
    const level = asked === 'queued' && this.parts.upgradeQueued ? 'logged' : asked
    // No durable log: `logged` is served by the stronger `stored`.
    return level === 'logged' && !this.parts.log && !this.parts.outbox ? 'stored' : level
  }

  #knownLive(id: string | undefined): boolean | undefined {
    if (typeof id !== 'string') return undefined
    return this.parts.preparer.knownLive(id, (absent) => this.parts.filter.provesAbsent(absent))
  }

  #refuseCondition(options: Pick<SubmitOptions, 'ifVersion'> | undefined): void {
    if (options?.ifVersion !== undefined) {
      throw new InvalidArgumentError(
        'ifVersion applies to one item: use submit or delete, not the bulk calls',
      )
    }
  }
}

function receiptOf(write: QueuedWrite, ack: AckLevel, known: boolean | undefined): Receipt {
  const receipt = { id: write.id, version: write.version, ack }
  if (known === undefined) return receipt
  return write.item === null ? { ...receipt, existed: known } : { ...receipt, created: !known }
}

/** The receipt of a write the outbox took: at the version it was given there. */
function outboxReceipt(
  write: QueuedWrite,
  outcome: OutboxOutcome & { ok: true },
  known: boolean | undefined,
): Receipt {
  const receipt = { id: write.id, version: outcome.version, ack: 'logged' as const }
  if (write.item === null) return { ...receipt, existed: known ?? outcome.replacedLive }
  return known === undefined ? receipt : { ...receipt, created: !known }
}

function idOf(item: unknown): string {
  return item instanceof SyncItem ? item.id : String((item as { id?: unknown } | null)?.id ?? '')
}
