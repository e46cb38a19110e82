import { BackpressureError, InvalidArgumentError } from '../errors.ts'
import { type BackpressureLevel, levelAt, nextLevelIndex } from './backpressure-level.ts'
import { type BackpressureOptions, resolveBackpressureOptions } from './backpressure-options.ts'

/** How full one budget is. */
export interface PressureFill {
  readonly bytes: number
  /** > 0 */
  readonly budget: number
}

/** The current fills; an absent one (no log configured, say) does not count. */
export interface PressureInputs {
  readonly l1?: PressureFill
  readonly queue?: PressureFill
  readonly log?: PressureFill
}

export type PressureSource = keyof PressureInputs

export interface BackpressureAdmitOptions {
  /** The write goes to no durable tier (L2 only): the first to be refused under pressure. */
  readonly cacheOnly: boolean
}

export interface BackpressureAdmission {
  /** How long the caller should wait before going on with the write; 0 = not at all. */
  readonly delayMs: number
}

export interface BackpressureSnapshot {
  readonly level: BackpressureLevel
  /** The input that sets the level (the fullest of those that count); undefined without inputs. */
  readonly driver: PressureSource | undefined
  /** The fill the level was computed from (the driver's, as it counts). */
  readonly fill: number
  /** Each input's fill ratio as reported (bytes ÷ budget). */
  readonly fills: { readonly [source in PressureSource]?: number }
  /** What L1 should shrink to now, if anything (see `l1ShrinkTarget`). */
  readonly l1ShrinkTarget: number | undefined
  /** Level changes so far. */
  readonly changes: number
  /** Writes `admit` delayed (throttle, critical). */
  readonly delayed: number
  /** Writes `admit` refused (critical cache-only, emergency). */
  readonly refused: number
}

export type BackpressureListener = (level: BackpressureLevel, previous: BackpressureLevel) => void

/**
 * Backpressure levels, computed from how full the engine's budgets are, and what each level does
 * to a write. Pure: no timers, no I/O; the engine reports fills (`update`) and asks before each
 * write (`admit`); it does the waiting and the evicting. Reads are never affected (no API here).
 *
 * - **normal**: nothing.
 * - **warn**: L1 gives memory back to the write queue (`l1ShrinkTarget`).
 * - **throttle**: writes wait `minDelayMs`…`maxDelayMs`, growing with the fill towards critical.
 * - **critical**: cache-only writes are refused (`BackpressureError`: they are the writes a caller
 *   can best do without, and refusing them sheds load without losing durable data); others wait
 *   `maxDelayMs`.
 * - **emergency**: every write is refused.
 *
 * The level follows the fullest of the queue and the log: those hold writes not yet in L3, and
 * only slowing or refusing writes empties them. L1 does not raise the level by its fill: it
 * evicts down to its own budget, and with write-around it never holds the only copy of an item,
 * so a full L1 is a healthy cache (counting it would keep the engine at warn all the time). It
 * counts (as warn) only above 100 %, when it could not evict down to its budget. What L1 does do
 * is give way: the queue's bytes are memory too, so from warn on L1 is shrunk by what the queue
 * holds (down to `l1Floor` of its budget), keeping L1 + queue within L1's budget.
 */
export class Backpressure {
  readonly options: BackpressureOptions
  #level = 0
  #fill = 0
  #driver: PressureSource | undefined
  #inputs: PressureInputs = {}
  #changes = 0
  #delayed = 0
  #refused = 0
  readonly #listeners = new Set<BackpressureListener>()

  constructor(options: Partial<BackpressureOptions> = {}) {
    this.options = resolveBackpressureOptions(options)
  }

  get level(): BackpressureLevel {
    return levelAt(this.#level)
  }

  /** Takes the current fills and returns the level they lead to (with hysteresis). */
  update(inputs: PressureInputs): BackpressureLevel {
    let fill = 0
    let driver: PressureSource | undefined
    // In order of precedence on equal fills: the queue, then the log, then L1.
    const queue = ratioOf('queue', inputs.queue)
    if (queue !== undefined) {
      fill = queue
      driver = 'queue'
    }
    const log = ratioOf('log', inputs.log)
    if (log !== undefined && (driver === undefined || log > fill)) {
      fill = log
      driver = 'log'
    }
    const l1 = ratioOf('l1', inputs.l1)
    if (l1 !== undefined) {
      const counted = l1 > 1 ? this.options.warn : 0
      if (driver === undefined || counted > fill) {
        fill = counted
        driver = 'l1'
      }
    }
    this.#inputs = inputs
    this.#fill = fill
    this.#driver = driver
    const previous = this.#level
    this.#level = nextLevelIndex(previous, fill, this.options)
    if (this.#level !== previous) this.#changed(levelAt(this.#level), levelAt(previous))
    return levelAt(this.#level)
  }

  /**
   * What the current level does to a write: the delay to wait before going on, or a thrown
   * `BackpressureError` (HTTP 503, `retryAfterMs`) when the write is refused.
   */
  admit(options: BackpressureAdmitOptions): BackpressureAdmission {
    const { critical, emergency, maxDelayMs, minDelayMs, throttle } = this.options
    switch (this.#level) {
      case 0:
      case 1:
        return NO_DELAY
      case 2: {
        // Where the fill is between throttle and critical; below throttle (held by hysteresis) = 0.
        const progress = Math.min(1, Math.max(0, (this.#fill - throttle) / (critical - throttle)))
        this.#delayed++
        return { delayMs: Math.round(minDelayMs + (maxDelayMs - minDelayMs) * progress) }
      }
      case 3:
        if (options.cacheOnly) throw this.#refuse('cache-only writes are refused', critical)
        this.#delayed++
        return { delayMs: maxDelayMs }
      default:
        throw this.#refuse('writes are refused', emergency)
    }
  }

  /**
   * The bytes L1 should shrink to now (`L1Cache.shrinkTo`), or undefined when it need not: below
   * warn, without an L1 input, or when L1 already fits. The target is L1's budget minus the
   * queued bytes, never below `l1Floor` of the budget.
   */
  l1ShrinkTarget(): number | undefined {
    const l1 = this.#inputs.l1
    if (this.#level === 0 || l1 === undefined) return undefined
    const queued = this.#inputs.queue?.bytes ?? 0
    const target = Math.max(Math.floor(l1.budget * this.options.l1Floor), l1.budget - queued)
    return l1.bytes > target ? target : undefined
  }

  snapshot(): BackpressureSnapshot {
    const fills: { [source in PressureSource]?: number } = {}
    for (const source of ['l1', 'queue', 'log'] as const) {
      const fill = this.#inputs[source]
      if (fill !== undefined) fills[source] = fill.bytes / fill.budget
    }
    return {
      level: this.level,
      driver: this.#driver,
      fill: this.#fill,
      fills,
      l1ShrinkTarget: this.l1ShrinkTarget(),
      changes: this.#changes,
      delayed: this.#delayed,
      refused: this.#refused,
    }
  }

  /** Subscribes to level changes; returns the unsubscribe function. A throwing listener is ignored. */
  onChange(listener: BackpressureListener): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  #changed(level: BackpressureLevel, previous: BackpressureLevel): void {
    this.#changes++
    for (const listener of [...this.#listeners]) {
      try {
        listener(level, previous)
      } catch {
        // A listener (metrics, logs) must not be able to break the write path that updated it.
      }
    }
  }

  #refuse(what: string, threshold: number): BackpressureError {
    this.#refused++
    const level = this.level
    const percent = (ratio: number) => `${Math.round(ratio * 100)} %`
    const cause = `${this.#driver ?? 'load'} at ${percent(this.#fill)} of its budget`
    return new BackpressureError(
      level,
      `backpressure ${level} (${cause}; ${level} from ${percent(threshold)}): ${what}`,
      this.options.retryAfterMs,
    )
  }
}

const NO_DELAY: BackpressureAdmission = Object.freeze({ delayMs: 0 })

function ratioOf(source: PressureSource, fill: PressureFill | undefined): number | undefined {
  if (fill === undefined) return undefined
  const { bytes, budget } = fill
  if (!(Number.isFinite(bytes) && bytes >= 0)) {
    throw new InvalidArgumentError(`backpressure ${source}.bytes must be a number >= 0, got ${bytes}`)
  }
  if (!(Number.isFinite(budget) && budget > 0)) {
    throw new InvalidArgumentError(`backpressure ${source}.budget must be a number > 0, got ${budget}`)
  }
  return bytes / budget
}
