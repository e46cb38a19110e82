import type { BackpressureOptions } from './backpressure-options.ts'

/** From calm to refusing every write; the order is the severity. */
export const BACKPRESSURE_LEVELS = ['normal', 'warn', 'throttle', 'critical', 'emergency'] as const

export type BackpressureLevel = (typeof BACKPRESSURE_LEVELS)[number]

/** The level's position in `BACKPRESSURE_LEVELS` (0 = normal), for comparisons. */
export function severity(level: BackpressureLevel): number {
  return BACKPRESSURE_LEVELS.indexOf(level)
}

function thresholdOf(index: number, options: BackpressureOptions): number {
  switch (index) {
    case 1:
      return options.warn
    case 2:
      return options.throttle
    case 3:
      return options.critical
    case 4:
      return options.emergency
    default:
      return 0
  }
}

/**
 * The level a fill reaches from `current`: up at once to the highest threshold the fill is at or
 * above; down one level at a time, only while the fill is below the level's threshold minus
 * `hysteresis`. Both parts are monotone in the fill and in `current`, so more fill (or a higher
 * starting level) never gives a lower level.
 */
export function nextLevelIndex(current: number, fill: number, options: BackpressureOptions): number {
  let entered = 0
  while (entered < 4 && fill >= thresholdOf(entered + 1, options)) entered++
  let held = current
  while (held > 0 && fill < thresholdOf(held, options) - options.hysteresis) held--
  return Math.max(entered, held)
}

/** Indexes back to names (the array is the single source of the order). */
export function levelAt(index: number): BackpressureLevel {
  return BACKPRESSURE_LEVELS[index] ?? 'normal'
}
