import { InvalidArgumentError } from '../errors.ts'
import { validateState } from '../item/sync-item.ts'
import { validateTtl } from './cache-ttl.ts'

/**
 * How far a write must get before `submit` resolves.
 * - `queued`: in L1 and the write queue; lost only if the process dies before the flush.
 * - `logged`: in a durable log. Where no log exists yet it is served as `stored` (a stronger promise).
 * - `stored`: committed to every tier it is routed to.
 */
export type AckLevel = 'queued' | 'logged' | 'stored'
export const ACK_LEVELS: readonly AckLevel[] = ['queued', 'logged', 'stored']

export interface SubmitOptions {
  /** Write to L2 (Redis). Default true. */
  redis?: boolean
  /** TTL in L2 and L1, milliseconds. */
  redisTtl?: number
  /** Write to L3 (SQL). Default true. */
  sql?: boolean
  /** Overrides the item's state tag. */
  state?: string
  /** Default: the engine's `defaultAck`. A conditional write (`ifVersion`) is always `stored`. */
  ack?: AckLevel
  /**
   * A conditional write: applied only if the live item is at exactly this version (HTTP
   * `If-Match`), or, with 0, only if no live item exists (`If-None-Match: *`). Checked atomically
   * by the tier that decides (L3 when the write goes there, else L2); a failed condition is a
   * `PreconditionFailedError` and nothing is written. Such a write is acknowledged `stored`.
   */
  ifVersion?: number
}

/** Routing presets: Redis + SQL, Redis only with a TTL, SQL only. */
export const SubmitOptions = {
  /** Redis + SQL, no TTL. */
  default(): SubmitOptions {
    return { redis: true, sql: true }
  },
  /** Redis only, with a TTL (and the same TTL in L1). */
  cache(ttlMs: number): SubmitOptions {
    validateTtl(ttlMs)
    return { redis: true, sql: false, redisTtl: ttlMs }
  },
  /** SQL only. */
  durable(): SubmitOptions {
    return { redis: false, sql: true }
  },
}

/** Where one write goes, resolved against the tiers this engine has. */
export interface Route {
  readonly l2: boolean
  readonly l3: boolean
  readonly ttlMs: number | undefined
}

export function validateSubmitOptions(options: SubmitOptions): void {
  if (options.redisTtl !== undefined) validateTtl(options.redisTtl)
  if (options.state !== undefined) validateState(options.state)
  if (options.ack !== undefined && !ACK_LEVELS.includes(options.ack)) {
    throw new InvalidArgumentError(`ack must be one of ${ACK_LEVELS.join(', ')}, got ${String(options.ack)}`)
  }
  if (
    options.ifVersion !== undefined &&
    !(Number.isSafeInteger(options.ifVersion) && options.ifVersion >= 0)
  ) {
    throw new InvalidArgumentError(`ifVersion must be a whole number >= 0, got ${String(options.ifVersion)}`)
  }
  for (const flag of ['redis', 'sql'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') {
      throw new InvalidArgumentError(`${flag} must be a boolean`)
    }
  }
}
