/**
 * What the core needs from its runtime. Node, Lambda and Workers differ in timers and background
 * work, so those go through here and the core stays free of `node:` imports.
 */
export interface Platform {
  /** Wall-clock milliseconds since the epoch. */
  now(): number
  /** Runs `fn` once after `ms`. */
  setTimer(fn: () => void, ms: number): TimerHandle
  clearTimer(handle: TimerHandle): void
  /** Keeps background work alive after a response (Workers' `ctx.waitUntil`); absent on Node. */
  waitUntil?: (work: Promise<unknown>) => void
}

export type TimerHandle = { readonly __timer: unique symbol } | unknown

export const defaultPlatform: Platform = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
}
