import { ConfigError } from '../errors.ts'
import type { BackendTier } from './backend-tier.ts'
import { MAX_TIMER_MS } from './deadline.ts'

/** How one backend's circuit breaker and deadline behave (one block per tier in the config). */
export interface BreakerOptions {
  /** Failures within `windowMs` that open the circuit: a count, not a rate. */
  readonly failureThreshold: number
  /** Length of the rolling window failures are counted in. */
  readonly windowMs: number
  /** How long the circuit stays open before the first probe. */
  readonly openMs: number
  /** Each failed probe doubles the open period, up to this. Equal to `openMs`: no backoff. */
  readonly maxOpenMs: number
  /** Consecutive successful probes that close a half-open circuit. */
  readonly successesToClose: number
  /** Every call through the breaker is given up (and counted as a failure) after this. */
  readonly deadlineMs: number
}

const SHARED_DEFAULTS = {
  failureThreshold: 5,
  windowMs: 10_000,
  openMs: 5_000,
  maxOpenMs: 60_000,
  successesToClose: 1,
} as const

/** Defaults per tier: Redis answers in milliseconds; a SQL flush of a full batch may take seconds. */
export const DEFAULT_BREAKER_OPTIONS: Readonly<Record<BackendTier, BreakerOptions>> = {
  l2: { ...SHARED_DEFAULTS, deadlineMs: 2_000 },
  l3: { ...SHARED_DEFAULTS, deadlineMs: 10_000 },
}

/**
 * The tier's defaults overlaid with `input` (undefined fields keep the default), validated.
 * Throws `ConfigError` naming every field at fault.
 */
export function resolveBreakerOptions(
  tier: BackendTier,
  input: Partial<BreakerOptions> = {},
): BreakerOptions {
  const defaults = DEFAULT_BREAKER_OPTIONS[tier]
  const options: BreakerOptions = {
    failureThreshold: input.failureThreshold ?? defaults.failureThreshold,
    windowMs: input.windowMs ?? defaults.windowMs,
    openMs: input.openMs ?? defaults.openMs,
    maxOpenMs: input.maxOpenMs ?? Math.max(defaults.maxOpenMs, input.openMs ?? defaults.openMs),
    successesToClose: input.successesToClose ?? defaults.successesToClose,
    deadlineMs: input.deadlineMs ?? defaults.deadlineMs,
  }
  const problems: [field: keyof BreakerOptions, rule: string][] = []
  if (!isCount(options.failureThreshold)) problems.push(['failureThreshold', 'an integer >= 1'])
  if (!isDuration(options.windowMs, 1)) problems.push(['windowMs', 'a number of ms >= 1'])
  if (!isDuration(options.openMs, 1)) problems.push(['openMs', 'a number of ms >= 1'])
  if (!isDuration(options.maxOpenMs, options.openMs)) problems.push(['maxOpenMs', 'a number of ms >= openMs'])
  if (!isCount(options.successesToClose)) problems.push(['successesToClose', 'an integer >= 1'])
  if (!isDuration(options.deadlineMs, 1) || options.deadlineMs > MAX_TIMER_MS) {
    problems.push(['deadlineMs', `a number of ms in [1, ${MAX_TIMER_MS}]`])
  }
  if (problems.length > 0) {
    const detail = problems.map(([field, rule]) => `${tier}.${field} must be ${rule}`).join('; ')
    throw new ConfigError(
      `invalid circuit breaker options: ${detail}`,
      problems.map(([field]) => field),
    )
  }
  return options
}

function isCount(value: number): boolean {
  return Number.isInteger(value) && value >= 1
}

function isDuration(value: number, min: number): boolean {
  return Number.isFinite(value) && value >= min
}
