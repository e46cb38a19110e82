import { InvalidArgumentError } from '../errors.ts'
import type { Platform } from '../platform/platform.ts'
import type { BackendTier } from './backend-tier.ts'
import { DeadlineExceededError } from './deadline-exceeded-error.ts'

/** Timers of Node, browsers and Workers overflow above this many ms and then fire at once. */
export const MAX_TIMER_MS = 2_147_483_647

export type AbortListener = () => void

/**
 * The cancel hook a call receives: the part of `AbortSignal` a transport needs. It aborts when the
 * deadline passes, with the `DeadlineExceededError` as its `reason`, and never aborts otherwise.
 * A transport holding a real `AbortController` (fetch-based drivers) forwards it:
 * `signal.addEventListener('abort', () => controller.abort(signal.reason))`.
 */
export interface DeadlineSignal {
  readonly aborted: boolean
  readonly reason: unknown
  addEventListener(type: 'abort', listener: AbortListener): void
  removeEventListener(type: 'abort', listener: AbortListener): void
  /** Throws `reason` once aborted: lets a multi-step call stop between steps. */
  throwIfAborted(): void
}

export interface DeadlineOptions {
  readonly tier: BackendTier
  /** What is being timed (`'flush'`, `'get'`…), carried by the error for logs. */
  readonly operation?: string
  /**
   * Called once when the deadline passes, after the signal has aborted and before the returned
   * promise rejects. Whatever it throws is ignored: the caller still gets the deadline error.
   */
  readonly onTimeout?: (error: DeadlineExceededError) => void
}

/** A promise already running, or a call that starts it and may use the cancel hook. */
export type DeadlineWork<T> = Promise<T> | ((signal: DeadlineSignal) => Promise<T>)

/**
 * Settles like `work`, unless `ms` pass first: then the signal aborts, `onTimeout` runs and the
 * promise rejects with a `DeadlineExceededError`. The timer is cleared on every path (a value, an
 * error, a synchronous throw) or consumed by firing, so nothing outlives the call. A late outcome of
 * `work` after the deadline is absorbed, never reported as an unhandled rejection.
 */
export function withDeadline<T>(
  work: DeadlineWork<T>,
  ms: number,
  platform: Platform,
  options: DeadlineOptions,
): Promise<T> {
  assertDeadlineMs(ms)
  const signal = new DeadlineSignalImpl()
  let running: Promise<T>
  try {
    running = typeof work === 'function' ? work(signal) : work
  } catch (error) {
    return Promise.reject(error)
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const timer = platform.setTimer(() => {
      if (settled) return
      settled = true
      const error = new DeadlineExceededError(options.tier, ms, options.operation)
      DeadlineSignalImpl.abort(signal, error)
      try {
        options.onTimeout?.(error)
      } catch {
        // A failing hook must not keep the caller from its deadline error.
      }
      reject(error)
    }, ms)
    Promise.resolve(running).then(
      (value) => {
        if (settled) return
        settled = true
        platform.clearTimer(timer)
        resolve(value)
      },
      (error: unknown) => {
        if (settled) return
        settled = true
        platform.clearTimer(timer)
        reject(error)
      },
    )
  })
}

/** Rejects what no timer can honour: negative, NaN, infinite, or past the timer overflow. */
export function assertDeadlineMs(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      `a deadline must be a finite number of ms in [0, ${MAX_TIMER_MS}], not ${ms}`,
    )
  }
}

/** The signal handed to a call. Only `withDeadline` can abort it (through the static `abort`). */
class DeadlineSignalImpl implements DeadlineSignal {
  #aborted = false
  #reason: unknown
  /** Created by the first listener: most calls never listen. */
  #listeners: Set<AbortListener> | undefined

  get aborted(): boolean {
    return this.#aborted
  }

  get reason(): unknown {
    return this.#reason
  }

  addEventListener(_type: 'abort', listener: AbortListener): void {
    if (this.#aborted) return
    this.#listeners ??= new Set()
    this.#listeners.add(listener)
  }

  removeEventListener(_type: 'abort', listener: AbortListener): void {
    this.#listeners?.delete(listener)
  }

  throwIfAborted(): void {
    if (this.#aborted) throw this.#reason
  }

  static abort(signal: DeadlineSignalImpl, reason: unknown): void {
    if (signal.#aborted) return
    signal.#aborted = true
    signal.#reason = reason
    const listeners = signal.#listeners === undefined ? [] : [...signal.#listeners]
    signal.#listeners = undefined
    for (const listener of listeners) {
      try {
        listener()
      } catch {
        // One failing cleanup must not keep the other listeners from cancelling.
      }
    }
  }
}
