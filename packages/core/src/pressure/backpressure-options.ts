import { ConfigError } from '../errors.ts'

/**
 * Where each level starts (fill ratios: bytes ÷ budget) and what the levels do. A fill may exceed
 * 1 (the queue's budget is what backpressure defends, not a hard cap), so thresholds may too.
 */
export interface BackpressureOptions {
  readonly warn: number
  readonly throttle: number
  readonly critical: number
  readonly emergency: number
  /**
   * A level is left only when the fill is below its threshold minus this, so a fill hovering at a
   * threshold does not flap the level (and the metrics and logs that follow it) on every write.
   */
  readonly hysteresis: number
  /** Throttle delay at the throttle threshold; it grows linearly with the fill up to `maxDelayMs`. */
  readonly minDelayMs: number
  /** Throttle delay at the critical threshold and above. */
  readonly maxDelayMs: number
  /** The `retryAfterMs` of a refused write (HTTP Retry-After). */
  readonly retryAfterMs: number
  /**
   * The least share of its budget L1 keeps when it gives memory back to the queue (the evict
   * effect): an empty L1 would send every read to the tiers that are already behind.
   */
  readonly l1Floor: number
}

export const DEFAULT_BACKPRESSURE_OPTIONS: BackpressureOptions = {
  warn: 0.7,
  throttle: 0.8,
  critical: 0.9,
  emergency: 0.97,
  hysteresis: 0.05,
  minDelayMs: 1,
  maxDelayMs: 50,
  retryAfterMs: 1000,
  l1Floor: 0.5,
}

/**
 * The defaults overlaid with `input` (undefined fields keep the default), validated.
 * Throws `ConfigError` naming every field at fault.
 */
export function resolveBackpressureOptions(input: Partial<BackpressureOptions> = {}): BackpressureOptions {
  const d = DEFAULT_BACKPRESSURE_OPTIONS
  const o: BackpressureOptions = {
    warn: input.warn ?? d.warn,
    throttle: input.throttle ?? d.throttle,
    critical: input.critical ?? d.critical,
    emergency: input.emergency ?? d.emergency,
    hysteresis: input.hysteresis ?? d.hysteresis,
    minDelayMs: input.minDelayMs ?? d.minDelayMs,
    maxDelayMs: input.maxDelayMs ?? d.maxDelayMs,
    retryAfterMs: input.retryAfterMs ?? d.retryAfterMs,
    l1Floor: input.l1Floor ?? d.l1Floor,
  }
  const problems: [field: keyof BackpressureOptions, rule: string][] = []
  if (!isFinitePositive(o.warn)) problems.push(['warn', 'a ratio > 0'])
  if (!(isFinitePositive(o.throttle) && o.throttle > o.warn)) problems.push(['throttle', 'a ratio > warn'])
  if (!(isFinitePositive(o.critical) && o.critical > o.throttle)) {
    problems.push(['critical', 'a ratio > throttle'])
  }
  if (!(isFinitePositive(o.emergency) && o.emergency > o.critical)) {
    problems.push(['emergency', 'a ratio > critical'])
  }
  // At hysteresis >= warn the fill could never fall far enough to return to normal.
  if (!(Number.isFinite(o.hysteresis) && o.hysteresis >= 0 && o.hysteresis < o.warn)) {
    problems.push(['hysteresis', 'a ratio >= 0 and < warn'])
  }
  if (!(Number.isFinite(o.minDelayMs) && o.minDelayMs >= 0))
    problems.push(['minDelayMs', 'a number of ms >= 0'])
  if (!(Number.isFinite(o.maxDelayMs) && o.maxDelayMs >= o.minDelayMs)) {
    problems.push(['maxDelayMs', 'a number of ms >= minDelayMs'])
  }
  if (!(Number.isFinite(o.retryAfterMs) && o.retryAfterMs >= 1)) {
    problems.push(['retryAfterMs', 'a number of ms >= 1'])
  }
  if (!(Number.isFinite(o.l1Floor) && o.l1Floor >= 0 && o.l1Floor <= 1)) {
    problems.push(['l1Floor', 'a ratio in [0, 1]'])
  }
  if (problems.length > 0) {
    const detail = problems.map(([field, rule]) => `backpressure.${field} must be ${rule}`).join('; ')
    throw new ConfigError(
      `invalid backpressure options: ${detail}`,
      problems.map(([field]) => field),
    )
  }
  return o
}

function isFinitePositive(value: number): boolean {
  return Number.isFinite(value) && value > 0
}
