import type { Platform } from '../platform/platform.ts'
import type { BackendTier } from './backend-tier.ts'
import { type BreakerOptions, resolveBreakerOptions } from './breaker-options.ts'
import { CircuitOpenError } from './circuit-open-error.ts'
import { assertDeadlineMs, type DeadlineSignal, withDeadline } from './deadline.ts'
import { DeadlineExceededError } from './deadline-exceeded-error.ts'
import { type FailurePredicate, isBackendFailure } from './failure-policy.ts'
import { FailureWindow } from './failure-window.ts'

export type BreakerState = 'closed' | 'open' | 'half-open'

export type BreakerStateListener = (state: BreakerState, previous: BreakerState) => void

export interface CircuitBreakerOptions extends Partial<BreakerOptions> {
  /** Which errors count toward opening the circuit. Default: `isBackendFailure`. */
  readonly isFailure?: FailurePredicate
}

export interface RunOptions {
  /** Overrides the breaker's `deadlineMs` for this call (e.g. a flush of an unusually big batch). */
  readonly deadlineMs?: number
  /** Names the call in a `DeadlineExceededError`. */
  readonly operation?: string
}

/** Monotonic counters (they survive `reset()`) plus the current state, for metrics and health. */
export interface BreakerStats {
  readonly tier: BackendTier
  readonly state: BreakerState
  /** Calls let through to the backend (probes included). */
  readonly calls: number
  readonly successes: number
  /** Errors that counted as backend failures (timeouts included). */
  readonly failures: number
  /** Of `failures`, the calls given up at their deadline. */
  readonly timeouts: number
  /** Errors that did not count: caller errors such as `InvalidArgumentError`. */
  readonly ignoredErrors: number
  /** Calls refused with `CircuitOpenError` without touching the backend. */
  readonly rejections: number
  /** State changes of any kind. */
  readonly transitions: number
  /** Times the circuit opened (from closed or from a failed probe). */
  readonly opens: number
  /** Failures now in the rolling window (0 unless closed). */
  readonly recentFailures: number
  /** Milliseconds until a call may be let through: 0 when closed or when a probe may start now. */
  readonly retryAfterMs: number
}

const NO_OPTIONS: RunOptions = {}

/** A call's ticket: the epoch it was admitted in, and whether it is the half-open probe. */
interface Admission {
  readonly epoch: number
  readonly probe: boolean
}

/**
 * A circuit breaker for one backend.
 *
 * - **closed**: every call goes through. `failureThreshold` failures (per `isFailure`) within
 *   `windowMs` open it; successes do not erase failures, old failures age out of the window.
 * - **open**: every call fails fast with `CircuitOpenError`, the backend untouched, for the open
 *   period: `openMs` after opening from closed, doubled by each failed probe since, up to `maxOpenMs`.
 * - **half-open**: exactly one call at a time is let through as a probe; concurrent calls fail
 *   fast. `successesToClose` successful probes in a row close it; a failed probe re-opens it with
 *   the next backoff step. A probe ending in a caller error frees the slot and decides nothing.
 *
 * Every call runs under `deadlineMs` (`withDeadline`), so a hung backend counts as failing and a
 * hung probe cannot hold the half-open slot forever. Outcomes of calls admitted before the last
 * state change (or `reset()`) are stale and ignored: a slow failure from before an outage must not
 * re-open a circuit that has since recovered, and only the probe decides a half-open circuit.
 *
 * Time is `platform.now()`; no timer is kept. The open → half-open move happens when the breaker is
 * next consulted (`run`, `state`, `stats`) at or after the end of the open period, and listeners
 * hear of it then. A wall clock moved backwards never prolongs the open period past its length.
 */
export class CircuitBreaker {
  readonly tier: BackendTier
  readonly options: BreakerOptions
  readonly #platform: Platform
  readonly #isFailure: FailurePredicate
  readonly #window: FailureWindow
  readonly #listeners = new Set<BreakerStateListener>()
  /** The deadline options of a call that names no operation (shared: nothing allocated per call). */
  readonly #deadline: { readonly tier: BackendTier }

  #state: BreakerState = 'closed'
  /** Bumped on every state change and reset: outcomes of calls from an older epoch are ignored. */
  #epoch = 0
  #openedAt = 0
  #openForMs = 0
  /** Failed probes since the circuit last closed: the backoff exponent. */
  #failedProbes = 0
  #probeInFlight = false
  #probeDeadlineAt = 0
  #probeDeadlineMs = 0
  #probeSuccesses = 0

  #calls = 0
  #successes = 0
  #failures = 0
  #timeouts = 0
  #ignoredErrors = 0
  #rejections = 0
  #transitions = 0
  #opens = 0

  constructor(tier: BackendTier, platform: Platform, options: CircuitBreakerOptions = {}) {
    const { isFailure, ...breakerOptions } = options
    this.tier = tier
    this.options = resolveBreakerOptions(tier, breakerOptions)
    this.#platform = platform
    this.#isFailure = isFailure ?? isBackendFailure
    this.#window = new FailureWindow(this.options.failureThreshold, this.options.windowMs)
    this.#deadline = { tier }
  }

  get state(): BreakerState {
    this.#refresh()
    return this.#state
  }

  /**
   * Runs `call` through the breaker under the deadline, or rejects with `CircuitOpenError` without
   * calling it. The call receives a signal that aborts at the deadline, for transports that can
   * cancel. Its value or error is passed through unchanged; a timeout rejects with
   * `DeadlineExceededError`.
   */
  run<T>(call: (signal: DeadlineSignal) => Promise<T>, options: RunOptions = NO_OPTIONS): Promise<T> {
    // Not an async function: one promise chain per call on the hot path, no extra frame.
    let admission: Admission
    let deadlineMs: number
    try {
      deadlineMs = options.deadlineMs ?? this.options.deadlineMs
      assertDeadlineMs(deadlineMs)
      admission = this.#admit(deadlineMs)
    } catch (error) {
      return Promise.reject(error)
    }
    const deadline =
      options.operation === undefined ? this.#deadline : { tier: this.tier, operation: options.operation }
    return withDeadline(call, deadlineMs, this.#platform, deadline).then(
      (value) => {
        this.#succeeded(admission)
        return value
      },
      (error: unknown) => {
        this.#errored(admission, error)
        throw error
      },
    )
  }

  /** Subscribes to state changes; returns the unsubscribe function. A throwing listener is ignored. */
  onStateChange(listener: BreakerStateListener): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  stats(): BreakerStats {
    this.#refresh()
    return {
      tier: this.tier,
      state: this.#state,
      calls: this.#calls,
      successes: this.#successes,
      failures: this.#failures,
      timeouts: this.#timeouts,
      ignoredErrors: this.#ignoredErrors,
      rejections: this.#rejections,
      transitions: this.#transitions,
      opens: this.#opens,
      recentFailures: this.#state === 'closed' ? this.#window.count(this.#platform.now()) : 0,
      retryAfterMs: this.#retryAfterMs(),
    }
  }

  /**
   * Back to closed with no failure history and no backoff; calls in flight no longer count.
   * Counters are kept (they are monotonic, for metrics). Listeners hear of it unless already closed.
   */
  reset(): void {
    this.#window.clear()
    this.#failedProbes = 0
    if (this.#state === 'closed') this.#epoch++
    else this.#transition('closed')
  }

  #admit(deadlineMs: number): Admission {
    this.#refresh()
    if (this.#state === 'closed') {
      this.#calls++
      return { epoch: this.#epoch, probe: false }
    }
    if (this.#state === 'half-open' && !this.#probeInFlight) {
      this.#probeInFlight = true
      this.#probeDeadlineAt = this.#platform.now() + deadlineMs
      this.#probeDeadlineMs = deadlineMs
      this.#calls++
      return { epoch: this.#epoch, probe: true }
    }
    this.#rejections++
    throw new CircuitOpenError(this.tier, this.#state, this.#retryAfterMs())
  }

  #succeeded(admission: Admission): void {
    this.#successes++
    if (admission.epoch !== this.#epoch || !admission.probe) return
    this.#probeInFlight = false
    this.#probeSuccesses++
    if (this.#probeSuccesses >= this.options.successesToClose) {
      this.#failedProbes = 0
      this.#window.clear()
      this.#transition('closed')
    }
  }

  #errored(admission: Admission, error: unknown): void {
    const failure = this.#counts(error)
    if (failure) {
      this.#failures++
      if (error instanceof DeadlineExceededError) this.#timeouts++
    } else {
      this.#ignoredErrors++
    }
    if (admission.epoch !== this.#epoch) return
    if (admission.probe) {
      this.#probeInFlight = false
      if (failure) {
        this.#failedProbes++
        this.#open()
      }
      return
    }
    if (failure && this.#window.record(this.#platform.now()) >= this.options.failureThreshold) {
      this.#failedProbes = 0
      this.#open()
    }
  }

  #counts(error: unknown): boolean {
    try {
      return this.#isFailure(error)
    } catch {
      // A broken predicate must not hide an outage: err on the side of counting.
      return true
    }
  }

  #open(): void {
    const { openMs, maxOpenMs } = this.options
    this.#openForMs = Math.min(maxOpenMs, openMs * 2 ** this.#failedProbes)
    this.#openedAt = this.#platform.now()
    this.#window.clear()
    this.#opens++
    this.#transition('open')
  }

  /** Moves an open circuit whose open period has passed to half-open. */
  #refresh(): void {
    if (this.#state !== 'open') return
    const now = this.#platform.now()
    // The wall clock went backwards: restart the period from now rather than wait out the jump.
    if (now < this.#openedAt) this.#openedAt = now
    if (now - this.#openedAt >= this.#openForMs) this.#transition('half-open')
  }

  #retryAfterMs(): number {
    const now = this.#platform.now()
    if (this.#state === 'open') return Math.max(0, this.#openedAt + this.#openForMs - now)
    if (this.#state === 'half-open' && this.#probeInFlight) {
      // Clamped: a wall clock moved backwards must not announce a wait longer than the deadline.
      return Math.min(this.#probeDeadlineMs, Math.max(0, this.#probeDeadlineAt - now))
    }
    return 0
  }

  #transition(next: BreakerState): void {
    const previous = this.#state
    this.#state = next
    this.#epoch++
    this.#probeInFlight = false
    this.#probeSuccesses = 0
    this.#transitions++
    for (const listener of [...this.#listeners]) {
      try {
        listener(next, previous)
      } catch {
        // A listener (metrics, logs) must not be able to corrupt the breaker's bookkeeping.
      }
    }
  }
}
