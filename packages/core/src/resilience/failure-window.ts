/**
 * Counts failures in a rolling time window: a failure at `t` counts at `now` while
 * `now - t < windowMs`. Only the latest `threshold` times are kept (the count never needs to go
 * higher), so memory is bounded whatever the failure rate.
 */
export class FailureWindow {
  #times: number[] = []

  constructor(
    readonly threshold: number,
    readonly windowMs: number,
  ) {}

  /** Records a failure at `at` and returns how many fall in the window ending at `at`. */
  record(at: number): number {
    this.#times.push(at)
    if (this.#times.length > this.threshold) this.#times.shift()
    return this.count(at)
  }

  /**
   * Failures in the window ending at `now`. A failure stamped after `now` (the wall clock went
   * backwards) is dropped: forgetting a few failures is safe, holding them for the jump is not.
   */
  count(now: number): number {
    this.#times = this.#times.filter((time) => time <= now && now - time < this.windowMs)
    return this.#times.length
  }

  clear(): void {
    this.#times.length = 0
  }
}
