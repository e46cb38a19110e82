import type { Platform, TimerHandle } from '../platform/platform.ts'
import type { Maintenance } from './maintenance.ts'

/** How often maintenance runs while something is left to do. */
const MAINTENANCE_INTERVAL_MS = 100
/**
 * The interval while writes wait for L3 (parked, or L3 not connected): a run only asks the breaker
 * (no I/O while it is open), and the probe that starts the drain should not wait long.
 */
const RECOVERY_INTERVAL_MS = 20

/**
 * Runs maintenance on timers (a long-running process, e.g. the Node server): a timer is armed
 * only while `maintenance.needed`, so an idle engine keeps none.
 */
export class MaintenanceTimer {
  #timer: TimerHandle | undefined
  #running: Promise<void> | undefined
  #stopped = false

  constructor(
    private readonly maintenance: Maintenance,
    private readonly platform: Platform,
  ) {}

  /** Arms the timer if maintenance has work and none is armed or running. */
  poke(): void {
    if (this.#stopped || this.#timer !== undefined || this.#running || !this.maintenance.needed) return
    const delay = this.maintenance.waitingForL3 ? RECOVERY_INTERVAL_MS : MAINTENANCE_INTERVAL_MS
    this.#timer = this.platform.setTimer(() => {
      this.#timer = undefined
      this.#running = this.maintenance.runOnce().finally(() => {
        this.#running = undefined
        this.poke()
      })
    }, delay)
  }

  /** Disarms the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer !== undefined) this.platform.clearTimer(this.#timer)
    this.#timer = undefined
    await this.#running
  }
}
