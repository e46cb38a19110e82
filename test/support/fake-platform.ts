import type { Platform, TimerHandle } from '@sync-engine/core'

interface FakeTimer {
  readonly id: number
  readonly dueAt: number
  readonly fn: () => void
}

/**
 * A deterministic `Platform`: time only moves when a test moves it, and timers fire only then, in
 * due order (ties in the order they were set). Nothing here reads the real clock.
 */
export class FakePlatform implements Platform {
  #now: number
  #nextId = 1
  readonly #timers = new Map<number, FakeTimer>()

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs
  }

  readonly now = (): number => this.#now

  readonly setTimer = (fn: () => void, ms: number): TimerHandle => {
    const id = this.#nextId++
    this.#timers.set(id, { id, dueAt: this.#now + Math.max(0, ms), fn })
    return id
  }

  readonly clearTimer = (handle: TimerHandle): void => {
    this.#timers.delete(handle as number)
  }

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size
  }

  /** Due time of the earliest pending timer, or undefined. */
  get nextDueAt(): number | undefined {
    return this.#earliest()?.dueAt
  }

  /** Sets the wall clock to any value, backwards included. Fires nothing. */
  setTime(ms: number): void {
    this.#now = ms
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way (also those set by a
   * firing timer), each at its own due time.
   */
  advance(ms: number): void {
    if (ms < 0) throw new Error('advance() only moves forward; use setTime() to go back')
    const target = this.#now + ms
    for (;;) {
      const timer = this.#earliest()
      if (timer === undefined || timer.dueAt > target) break
      this.#timers.delete(timer.id)
      if (timer.dueAt > this.#now) this.#now = timer.dueAt
      timer.fn()
    }
    this.#now = target
  }

  /** Jumps to the earliest pending timer and fires it (and any due at the same instant). Returns false if none. */
  advanceToNextTimer(): boolean {
    const due = this.nextDueAt
    if (due === undefined) return false
    this.advance(Math.max(0, due - this.#now))
    return true
  }

  #earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined
    for (const timer of this.#timers.values()) {
      if (
        best === undefined ||
        timer.dueAt < best.dueAt ||
        (timer.dueAt === best.dueAt && timer.id < best.id)
      )
        best = timer
    }
    return best
  }
}

/** Lets every queued microtask and pending I/O callback run (one macrotask turn). */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Awaits `promise`, firing the fake platform's timers one at a time while it is pending (e.g. a
 * submit with ack 'stored' waiting for the batcher's timer). Throws if it can never settle.
 */
export async function driveUntilSettled<T>(
  platform: FakePlatform,
  promise: Promise<T>,
  maxSteps = 1000,
): Promise<T> {
  let settled = false
  const watched = promise.then(
    (value) => {
      settled = true
      return value
    },
    (error: unknown) => {
      settled = true
      throw error
    },
  )
  // Keep an unhandled rejection from being reported before we await it below.
  watched.catch(() => {})
  for (let step = 0; step < maxSteps; step++) {
    await macrotask()
    if (settled) return watched
    if (!platform.advanceToNextTimer()) {
      await macrotask()
      if (settled) return watched
      throw new Error('promise is pending and no timer is left that could settle it')
    }
  }
  throw new Error(`promise still pending after ${maxSteps} timer steps`)
}
