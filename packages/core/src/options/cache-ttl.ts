import { InvalidArgumentError } from '../errors.ts'

/** TTL presets in milliseconds (every duration in the API is milliseconds). */
export const CacheTtl = {
  Minute: 60_000,
  Short: 5 * 60_000,
  Medium: 15 * 60_000,
  Hour: 3_600_000,
  Day: 86_400_000,
  Week: 7 * 86_400_000,
  /** A custom TTL, validated. */
  ms(milliseconds: number): number {
    validateTtl(milliseconds)
    return milliseconds
  },
} as const

/** Redis' PX limit is a signed 64-bit; we cap at 10 years to keep expiry arithmetic exact. */
export const MAX_TTL_MS = 10 * 365 * 86_400_000

export function validateTtl(ttl: number): void {
  if (!Number.isSafeInteger(ttl) || ttl <= 0 || ttl > MAX_TTL_MS) {
    throw new InvalidArgumentError(
      `ttl must be a whole number of milliseconds in 1..${MAX_TTL_MS}, got ${ttl}`,
    )
  }
}
