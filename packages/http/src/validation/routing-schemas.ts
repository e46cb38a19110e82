import { ACK_LEVELS, type AckLevel, MAX_TTL_MS, type SubmitOptions } from '@sync-engine/core'
import { z } from 'zod'

/**
 * The routing options of a write (`SubmitOptions`) as they arrive over HTTP, shared by
 * `PUT /v1/items/:id` (query strings) and `POST /v1/items:batch` (JSON).
 */

export const TIER_NAMES = ['redis', 'sql'] as const
export type TierName = (typeof TIER_NAMES)[number]

export const ackSchema = z.enum(ACK_LEVELS as [AckLevel, ...AckLevel[]])

export const ttlMsSchema = z
  .number()
  .int('must be a whole number of milliseconds')
  .positive('must be at least 1 ms')
  .max(MAX_TTL_MS, `must be at most ${MAX_TTL_MS} ms`)

export const versionSchema = z
  .number()
  .int('must be a whole number')
  .positive('must be positive')
  .max(Number.MAX_SAFE_INTEGER, 'must be a safe integer')

/** A non-empty list of distinct tier names. */
export const tierListSchema = z
  .array(z.enum(TIER_NAMES, { error: `must be one of ${TIER_NAMES.join(', ')}` }))
  .min(1, 'must name at least one tier')
  .refine((tiers) => new Set(tiers).size === tiers.length, 'names a tier twice')

/**
 * Tiers as a JSON array (`["redis","sql"]`) or a comma list (`redis,sql`, as in query strings);
 * one schema for both, so an error names the bad entry either way.
 */
export const tiersSchema = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(',').map((name) => name.trim()) : value),
  tierListSchema,
)

/** A whole decimal number given as text (query strings), then checked as a number. */
export function decimalText<T extends z.ZodType<unknown, number>>(numberSchema: T) {
  return z
    .string()
    .regex(/^\d{1,16}$/, 'must be a whole decimal number')
    .transform(Number)
    .pipe(numberSchema)
}

export interface RoutingFields {
  ttl?: number | undefined
  tiers?: readonly TierName[] | undefined
  state?: string | undefined
  ack?: AckLevel | undefined
}

/** The engine's `SubmitOptions` for validated routing fields; absent fields keep the engine defaults. */
export function submitOptionsFrom(fields: RoutingFields): SubmitOptions {
  const options: SubmitOptions = {}
  if (fields.ttl !== undefined) options.redisTtl = fields.ttl
  if (fields.tiers !== undefined) {
    options.redis = fields.tiers.includes('redis')
    options.sql = fields.tiers.includes('sql')
  }
  if (fields.state !== undefined) options.state = fields.state
  if (fields.ack !== undefined) options.ack = fields.ack
  return options
}
