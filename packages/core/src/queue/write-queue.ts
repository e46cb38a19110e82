import type { Platform, TimerHandle } from '../platform/platform.ts'
import { EMPTY_OUTCOME, type FlushOutcome, NO_FAILURES, type QueuedWrite } from './queued-write.ts'

export interface WriteQueueOptions {
  /** Flush once this many distinct ids are queued. */
  maxCount: number
  /** Flush once queued writes hold this many bytes. */
  maxBytes: number
  /** Flush this long after the oldest queued write arrived. */
  maxAgeMs: number
  platform: Platform
  /**
   * Writes one batch to the tiers. Ids in `failed` are queued again; a throw fails the whole
   * batch. `release` says the next batch may start while this one finishes (its L3 part is
   * committed, its L2 part runs); a flush that never calls it releases when it ends.
   */
  flushBatch: (batch: readonly QueuedWrite[], release: () => void) => Promise<FlushOutcome>
  /** Called when a flush attempt fails (for logs and metrics). */
  onFlushError?: (error: Error, ids: number) => void
}

/** A batch in the making; every write enqueued into it is settled by the same flush. */
class Generation {
  readonly writes = new Map<string, QueuedWrite>()
  bytes = 0
  /** When the first write entered this generation (the age trigger counts from it). */
  firstAt = 0
  /** A caller awaits this generation's flush (`stored`): it goes as soon as the flush before it is done. */
  urgent = false
  #resolve!: (outcome: FlushOutcome) => void
  readonly done: Promise<FlushOutcome> = new Promise((resolve) => {
    this.#resolve = resolve
  })
  settle(outcome: FlushOutcome) {
    this.#resolve(outcome)
  }
}

const MAX_RETRY_DELAY_MS = 5_000
/** Batches in flight at once: one finishing in L2 while the next writes L3. */
const MAX_IN_FLIGHT = 2

/**
 * The write batcher. Writes are deduplicated by id (the highest version wins, so a delete cancels
 * the queued write of its id), and flushed when the count, the bytes or the age of the oldest
 * write reaches its threshold — whichever comes first. A batch that reaches its count or bytes is
 * sealed at once and its flush starts on the next microtask: a timer could not fire during a burst
 * of awaited submits, and the burst would become one unbounded batch. Batches start one after
 * another without a pause, each once the one before has released (L3 committed): the L2 part of
 * one overlaps the L3 part of the next, at most `MAX_IN_FLIGHT` batches at once. A write that fails to flush is queued again
 * (unless a newer version of its id is pending) and retried with backoff: nothing is dropped.
 */
export class WriteQueue {
  #current = new Generation()
  /** Full batches waiting for their flush, oldest first. */
  readonly #sealed: Generation[] = []
  /** Batches being flushed, oldest first. */
  readonly #inFlight: Generation[] = []
  /** Flushes running that have not released the next one yet. */
  #holding = 0
  /** Resolves once the latest batch started has finished (batches finish in order). */
  #finishing: Promise<void> = Promise.resolve()
  #kickQueued = false
  #timer: TimerHandle | undefined
  #timerDueAt = 0
  #failures = 0
  #closed = false

  constructor(private options: WriteQueueOptions) {}

  /** Changes thresholds live (reconfigure). */
  setThresholds(thresholds: Pick<WriteQueueOptions, 'maxCount' | 'maxBytes' | 'maxAgeMs'>): void {
    this.options = { ...this.options, ...thresholds }
    if (this.#current.writes.size > 0 && !this.#closed) this.#scheduleFlush(this.#dueDelay())
  }

  /**
   * Queues a write. The returned promise settles when the batch holding it has been flushed:
   * it never rejects; check `failed` in the outcome for this id.
   *
   * `urgent` (a caller awaits the flush, ack `stored`): group commit — the batch is flushed as soon
   * as the flush before it is done (on the next microtask when none runs), with whatever else was
   * queued meanwhile; the age trigger only bounds how long writes nobody awaits may wait. A
   * conditional write gets a batch of its own, so it is never merged with another write of its id.
   */
  enqueue(write: QueuedWrite, urgent = false): Promise<FlushOutcome> {
    if (write.condition !== undefined) return this.#enqueueAlone(write)
    const generation = this.#current
    const wasEmpty = generation.writes.size === 0
    if (wasEmpty) generation.firstAt = this.options.platform.now()
    const existing = generation.writes.get(write.id)
    if (existing === undefined) {
      generation.writes.set(write.id, write)
      generation.bytes += write.bytes
    } else if (write.version > existing.version) {
      generation.writes.set(write.id, write)
      generation.bytes += write.bytes - existing.bytes
    }
    if (this.#closed) return generation.done
    if (this.#isFull(generation)) {
      this.#seal()
      this.#kick()
    } else if (urgent) {
      generation.urgent = true
      this.#kick()
    } else if (wasEmpty) {
      this.#scheduleFlush(this.#failures > 0 ? this.#retryDelay() : this.options.maxAgeMs)
    }
    return generation.done
  }

  /** A batch of one, after everything queued before it (their flushes keep their order). */
  #enqueueAlone(write: QueuedWrite): Promise<FlushOutcome> {
    if (this.#current.writes.size > 0) this.#seal()
    const generation = this.#current
    generation.firstAt = this.options.platform.now()
    generation.writes.set(write.id, write)
    generation.bytes += write.bytes
    generation.urgent = true
    this.#seal()
    if (!this.#closed) this.#kick()
    return generation.done
  }

  /** The newest pending write of `id`: queued, sealed or being flushed. */
  lookup(id: string): QueuedWrite | undefined {
    let newest = this.#current.writes.get(id)
    // A caller-versioned write may be older than one pending before it: the newer wins, as in the tiers.
    for (let i = this.#sealed.length - 1; i >= 0; i--) newest = newer(newest, this.#sealed[i]!.writes.get(id))
    for (const generation of this.#inFlight) newest = newer(newest, generation.writes.get(id))
    return newest
  }

  /** The newest pending write of each id that `keep` accepts: queued, sealed or being flushed. */
  newestWhere(keep: (write: QueuedWrite) => boolean): QueuedWrite[] {
    const found = new Map<string, QueuedWrite>()
    const take = (generation: Generation | undefined) => {
      for (const write of generation?.writes.values() ?? []) {
        if (!keep(write)) continue
        const seen = found.get(write.id)
        found.set(write.id, newer(seen, write)!)
      }
    }
    for (const generation of this.#inFlight) take(generation)
    for (const generation of this.#sealed) take(generation)
    take(this.#current)
    return [...found.values()]
  }

  /** Pending writes, queued plus sealed plus in flight (an id pending in two batches counts twice). */
  get depth(): number {
    let depth = this.#current.writes.size
    for (const generation of this.#inFlight) depth += generation.writes.size
    for (const generation of this.#sealed) depth += generation.writes.size
    return depth
  }

  get bytes(): number {
    let bytes = this.#current.bytes
    for (const generation of this.#inFlight) bytes += generation.bytes
    for (const generation of this.#sealed) bytes += generation.bytes
    return bytes
  }

  get consecutiveFailures(): number {
    return this.#failures
  }

  /**
   * Flushes everything pending at the time of the call, now (backoff is skipped). Resolves with
   * the combined outcome of those batches; writes that failed are queued again.
   */
  async flush(): Promise<FlushOutcome> {
    if (this.#current.writes.size > 0) this.#seal()
    const batches = [...this.#inFlight, ...this.#sealed]
    if (batches.length === 0) return EMPTY_OUTCOME
    this.#startFlush()
    const outcomes = await Promise.all(batches.map((generation) => generation.done))
    const failed = new Map<string, Error>()
    const rejected = new Map<string, Error>()
    const parked = new Map<string, Error>()
    let written = 0
    for (const outcome of outcomes) {
      written += outcome.written
      for (const [id, error] of outcome.failed) failed.set(id, error)
      for (const [id, error] of outcome.rejected ?? []) rejected.set(id, error)
      for (const [id, error] of outcome.parked ?? []) parked.set(id, error)
    }
    // A failure followed by a success of the same id (requeued, then flushed) is not a failure.
    for (const id of failed.keys()) if (this.lookup(id) === undefined) failed.delete(id)
    const superseded = new Map<string, number>()
    for (const outcome of outcomes) for (const [id, v] of outcome.superseded ?? []) superseded.set(id, v)
    return {
      written,
      failed,
      ...(rejected.size > 0 && { rejected }),
      ...(parked.size > 0 && { parked }),
      ...(superseded.size > 0 && { superseded }),
    }
  }

  /** Stops timers; pending writes stay until `flush()` is called. */
  close(): void {
    this.#closed = true
    this.#clearTimer()
  }

  #isFull(generation: Generation): boolean {
    return generation.writes.size >= this.options.maxCount || generation.bytes >= this.options.maxBytes
  }

  #seal() {
    this.#sealed.push(this.#current)
    this.#current = new Generation()
  }

  /** Starts the next flush on a microtask (once per burst), unless one is running or backing off. */
  #kick() {
    if (this.#kickQueued || !this.#mayStart() || this.#closed) return
    if (this.#failures > 0) {
      this.#scheduleFlush(this.#retryDelay())
      return
    }
    this.#kickQueued = true
    queueMicrotask(() => {
      this.#kickQueued = false
      this.#startFlush()
    })
  }

  /** Delay until the current generation is due: backoff after failures, else full now, else its age. */
  #dueDelay(): number {
    if (this.#failures > 0) return this.#retryDelay()
    if (this.#isFull(this.#current)) return 0
    return Math.max(0, this.#current.firstAt + this.options.maxAgeMs - this.options.platform.now())
  }

  #retryDelay(): number {
    return Math.min(this.options.maxAgeMs * 2 ** this.#failures, MAX_RETRY_DELAY_MS)
  }

  #scheduleFlush(delayMs: number) {
    const dueAt = this.options.platform.now() + delayMs
    if (this.#timer !== undefined && this.#timerDueAt <= dueAt) return
    this.#clearTimer()
    this.#timerDueAt = dueAt
    this.#timer = this.options.platform.setTimer(() => {
      this.#timer = undefined
      // A flush is holding the next one back: it re-checks the queue when it releases.
      if (this.#mayStart()) this.#startFlush()
    }, delayMs)
  }

  #clearTimer() {
    if (this.#timer !== undefined) {
      this.options.platform.clearTimer(this.#timer)
      this.#timer = undefined
    }
  }

  #mayStart(): boolean {
    return this.#holding === 0 && this.#inFlight.length < MAX_IN_FLIGHT
  }

  #startFlush() {
    if (!this.#mayStart()) return
    void this.#runFlush()
  }

  /** After a flush released or ended: the next batch, if one is due. */
  #next() {
    // Closed: only an explicit flush() sealed batches, and it waits for every one of them.
    if (this.#closed) {
      if (this.#sealed.length > 0) this.#startFlush()
      return
    }
    if (this.#sealed.length > 0 || this.#current.urgent) this.#kick()
    // Writes that arrived during the flush are due by the age of the oldest, not from now.
    else if (this.#current.writes.size > 0) this.#scheduleFlush(this.#dueDelay())
  }

  async #runFlush(): Promise<void> {
    this.#clearTimer()
    if (this.#sealed.length === 0 && this.#current.writes.size > 0) this.#seal()
    const generation = this.#sealed.shift()
    if (generation === undefined) return
    this.#inFlight.push(generation)
    this.#holding++
    let holding = true
    const release = () => {
      if (!holding) return
      holding = false
      this.#holding--
      this.#next()
    }
    // Batches finish in the order they started: a later batch stays visible to `lookup` until
    // this one has put its failed writes back, so an older failed write is never requeued over a
    // newer one that the later batch already stored (and deleted or replaced in L2).
    const earlier = this.#finishing
    let finished!: () => void
    this.#finishing = new Promise<void>((resolve) => {
      finished = resolve
    })
    const batch = [...generation.writes.values()]
    try {
      let outcome: FlushOutcome
      try {
        outcome = await this.options.flushBatch(batch, release)
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error))
        const all = new Map(batch.map((write) => [write.id, failure]))
        // A conditional write is not retried behind its caller's back: its failure is final.
        outcome =
          batch[0]?.condition !== undefined
            ? { written: 0, failed: NO_FAILURES, rejected: all }
            : { written: 0, failed: all }
      }
      await earlier
      this.#inFlight.splice(this.#inFlight.indexOf(generation), 1)
      if (outcome.failed.size > 0) {
        this.#failures++
        for (const id of outcome.failed.keys()) {
          const write = generation.writes.get(id)
          if (write) this.#requeue(write)
        }
      } else {
        this.#failures = 0
      }
      generation.settle(outcome)
      if (outcome.failed.size > 0) {
        const first = outcome.failed.values().next().value as Error
        this.options.onFlushError?.(first, outcome.failed.size)
      }
    } finally {
      // Whatever a callback threw, the queue goes on: the next batch may start and finish.
      finished()
      if (holding) release()
      else this.#next()
    }
  }

  /** Puts a failed write back, unless a newer (or the same) version of its id is pending. */
  #requeue(write: QueuedWrite) {
    if (write.condition !== undefined) return
    const pending = this.lookup(write.id)
    if (pending !== undefined && pending.version >= write.version) return
    const generation = this.#current
    const replaced = generation.writes.get(write.id)
    if (generation.writes.size === 0) generation.firstAt = this.options.platform.now()
    generation.writes.set(write.id, write)
    generation.bytes += write.bytes - (replaced?.bytes ?? 0)
  }
}

function newer(a: QueuedWrite | undefined, b: QueuedWrite | undefined): QueuedWrite | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return b.version > a.version ? b : a
}
