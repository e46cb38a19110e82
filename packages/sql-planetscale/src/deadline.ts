import { type Fetch, newAbortController } from './web-platform.ts'

/** Our own deadline passed: the request was aborted (or abandoned, if its fetch ignores signals). */
export class DeadlineExceeded extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`)
  }
}

/**
 * One call's deadline. Its `fetch` carries an AbortSignal, so an abandoned request is cancelled on
 * the wire rather than left running; `race` also enforces it against a fetch that ignores signals.
 */
export class Deadline {
  readonly #controller = newAbortController()
  readonly #timer: unknown
  readonly #expired: Promise<never>
  #fired = false

  constructor(
    readonly at: number,
    readonly timeoutMs: number,
  ) {
    let reject: (error: Error) => void = () => {}
    this.#expired = new Promise<never>((_, fail) => {
      reject = fail
    })
    // Never an unhandled rejection when nobody is racing at the moment it fires.
    this.#expired.catch(() => {})
    this.#timer = setTimeout(
      () => {
        this.#fired = true
        const error = new DeadlineExceeded(timeoutMs)
        this.#controller?.abort(error)
        reject(error)
      },
      Math.max(0, at - Date.now()),
    )
  }

  static after(timeoutMs: number): Deadline {
    return new Deadline(Date.now() + timeoutMs, timeoutMs)
  }

  get passed(): boolean {
    return this.#fired || Date.now() >= this.at
  }

  /** `base` with this deadline's signal on every request. */
  fetchVia(base: Fetch): Fetch {
    const signal = this.#controller?.signal
    if (signal === undefined) return base
    // The client always passes an init; without one there is nothing to attach the signal to.
    return (input, init) => (init === undefined ? base(input) : base(input, { ...init, signal }))
  }

  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.#expired])
  }

  dispose(): void {
    clearTimeout(this.#timer)
  }
}

/** Waits `ms`, for a retry's backoff. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, Math.max(0, ms))
  })
}
