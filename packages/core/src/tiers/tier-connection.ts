import { BackendConfigError } from '../errors.ts'
import type { GuardedCall } from './guarded-call.ts'

/**
 * Whether a tier has answered its `init()` yet, and connecting it — at start, or later when it was
 * unreachable then. Both tiers follow one rule: a permanent refusal (`BackendConfigError`: a wrong
 * password, an unknown database) fails the start; an unreachable server degrades the engine, and
 * the connect is retried (through the tier's breaker) until it answers.
 */
export class TierConnection {
  #connected = false
  #connecting: Promise<void> | undefined

  constructor(
    private readonly guard: GuardedCall,
    private readonly init: () => Promise<void>,
    /** What must follow `init()` before the tier is used (its own guarded calls: clock seed…). */
    private readonly afterInit: () => Promise<void> = async () => {},
  ) {}

  get connected(): boolean {
    return this.#connected
  }

  /**
   * Connects at start. Resolves true once connected, false when the tier is unreachable and
   * `mayDegrade` lets the engine start without it; rethrows otherwise, and always for a permanent
   * refusal.
   */
  async atStart(mayDegrade: boolean): Promise<boolean> {
    try {
      await this.ensure()
      return true
    } catch (error) {
      if (error instanceof BackendConfigError || !mayDegrade) throw error
      return false
    }
  }

  /** Connects if not connected yet; one attempt at a time, through the breaker. */
  ensure(): Promise<void> {
    if (this.#connected) return Promise.resolve()
    this.#connecting ??= (async () => {
      await this.guard.run('init', this.init)
      await this.afterInit()
      this.#connected = true
    })().finally(() => {
      this.#connecting = undefined
    })
    return this.#connecting
  }
}
