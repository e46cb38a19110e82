import type { Platform, TimerHandle } from '../platform/platform.ts'
import type { FlushOutcome, QueuedWrite } from './queued-write.ts'

export interface WriteQueueOptions {
  /** Flush once this many distinct ids are queued. */
  maxCount: number
  /** Flush once queued writes hold this many bytes. */
  maxBytes: number
  /** Flush this long after the oldest queued write arrived. */
  maxAgeMs: number
  platform: Platform
  /** Writes one batch to the tiers. Ids in `failed` are queued again; a throw fails the whole batch. */
  flushBatch: (batch: readonly QueuedWrite[]) => Promise<FlushOutcome>
  /** Called when a flush attempt fails (for logs and metrics). */
  onFlushError?: (error: Error, ids: number) => void
}

/** A batch in the making; every write enqueued into it is settled by the same flush. */
class Generation {
  readonly writes = new Map<string, QueuedWrite>()
  bytes = 0
  /** When the first write entered this generation (the age trigger counts from it). */
  firstAt = 0
  #resolve!: (outcome: FlushOutcome) => void
  readonly done: Promise<FlushOutcome> = new Promise((resolve) => {
    this.#resolve = resolve
  })
  settle(outcome: FlushOutcome) {
    this.#resolve(outcome)
  }
}

const MAX_RETRY_DELAY_MS = 5_000

/**
 * The write batcher. Writes are deduplicated by id (the highest version wins, so a delete cancels
 * the queued write of its id), and flushed when the count, the bytes or the age of the oldest
 * write reaches its threshold — whichever comes first. One flush runs at a time. A write that
 * fails to flush is queued again (unless a newer version of its id arrived) and retried with
 * backoff: nothing is dropped.
 */
export class WriteQueue {
  #current = new Generation()
  #inFlight: Generation | undefined
  #flushing: Promise<void> | undefined
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
   */
  enqueue(write: QueuedWrite): Promise<FlushOutcome> {
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
    this.#afterEnqueue(wasEmpty)
    return generation.done
  }

  /** The newest pending write of `id` (queued or being flushed). */
  lookup(id: string): QueuedWrite | undefined {
    const queued = this.#current.writes.get(id)
    const inFlight = this.#inFlight?.writes.get(id)
    // A caller-versioned write may be older than the one in flight: the newer wins, as in the tiers.
    if (queued === undefined || (inFlight !== undefined && inFlight.version > queued.version)) return inFlight
    return queued
  }

  /** Distinct ids pending, queued plus in flight. */
  get depth(): number {
    return this.#current.writes.size + (this.#inFlight?.writes.size ?? 0)
  }

  get bytes(): number {
    return this.#current.bytes + (this.#inFlight?.bytes ?? 0)
  }

  get consecutiveFailures(): number {
    return this.#failures
  }

  /**
   * Flushes everything queued at the time of the call (waiting for a flush already running).
   * Resolves with the outcome of the last batch it flushed.
   */
  async flush(): Promise<FlushOutcome> {
    // A loop: another caller may start the next flush (holding writes queued before this call)
    // between the end of the one awaited and this continuation.
    while (this.#flushing) await this.#flushing
    if (this.#current.writes.size === 0) return { written: 0, failed: new Map() }
    const done = this.#current.done
    this.#startFlush()
    return done
  }

  /** Stops timers; pending writes stay until `flush()` is called. */
  close(): void {
    this.#closed = true
    this.#clearTimer()
  }

  #afterEnqueue(wasEmpty: boolean) {
    if (this.#closed) return
    const { maxCount, maxBytes, maxAgeMs } = this.options
    if (this.#current.writes.size >= maxCount || this.#current.bytes >= maxBytes) {
      this.#scheduleFlush(0)
    } else if (wasEmpty) {
      this.#scheduleFlush(this.#failures > 0 ? this.#retryDelay() : maxAgeMs)
    }
  }

  /** Delay until the current generation is due: backoff after failures, else full now, else its age. */
  #dueDelay(): number {
    if (this.#failures > 0) return this.#retryDelay()
    const { maxCount, maxBytes, maxAgeMs } = this.options
    if (this.#current.writes.size >= maxCount || this.#current.bytes >= maxBytes) return 0
    return Math.max(0, this.#current.firstAt + maxAgeMs - this.options.platform.now())
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
      if (!this.#flushing) this.#startFlush()
      // A flush is running: it re-checks the queue when it ends.
    }, delayMs)
  }

  #clearTimer() {
    if (this.#timer !== undefined) {
      this.options.platform.clearTimer(this.#timer)
      this.#timer = undefined
    }
  }

  #startFlush() {
    if (this.#flushing) return
    this.#flushing = this.#runFlush().finally(() => {
      this.#flushing = undefined
      if (this.#closed || this.#current.writes.size === 0) return
      // Writes that arrived during the flush are due by the age of the oldest, not from now.
      this.#scheduleFlush(this.#dueDelay())
    })
  }

  async #runFlush(): Promise<void> {
    this.#clearTimer()
    const generation = this.#current
    if (generation.writes.size === 0) return
    this.#current = new Generation()
    this.#inFlight = generation
    const batch = [...generation.writes.values()]
    let outcome: FlushOutcome
    try {
      outcome = await this.options.flushBatch(batch)
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error))
      outcome = { written: 0, failed: new Map(batch.map((write) => [write.id, failure])) }
    }
    this.#inFlight = undefined
    if (outcome.failed.size > 0) {
      this.#failures++
      const first = outcome.failed.values().next().value as Error
      this.options.onFlushError?.(first, outcome.failed.size)
      for (const id of outcome.failed.keys()) {
        const write = generation.writes.get(id)
        if (write) this.#requeue(write)
      }
    } else {
      this.#failures = 0
    }
    generation.settle(outcome)
  }

  /** Puts a failed write back, unless a newer version of its id is already queued. */
  #requeue(write: QueuedWrite) {
    const generation = this.#current
    const newer = generation.writes.get(write.id)
    if (newer !== undefined && newer.version >= write.version) return
    if (generation.writes.size === 0) generation.firstAt = this.options.platform.now()
    generation.writes.set(write.id, write)
    generation.bytes += write.bytes - (newer?.bytes ?? 0)
  }
}
