import { z } from 'zod'
import {
  ackSchema,
  decimalText,
  tiersSchema,
  ttlMsSchema,
  versionSchema,
} from '../validation/routing-schemas.ts'

/**
 * Query parameters of the write routes. Unknown parameters are refused: a misspelt `tll=` that
 * silently wrote without a TTL would be worse than a 400.
 */
export const putItemQuerySchema = z
  .object({
    /** L2 (and L1) TTL in milliseconds → `SubmitOptions.redisTtl`. */
    ttl: decimalText(ttlMsSchema).optional(),
    /** Comma list of `redis`, `sql` → `SubmitOptions.redis` / `.sql`. */
    tiers: tiersSchema.optional(),
    ack: ackSchema.optional(),
    /** State tag (validated by the core). */
    state: z.string().optional(),
    /** A caller-owned version instead of the engine's clock. */
    version: decimalText(versionSchema).optional(),
  })
  .strict()

export const deleteItemQuerySchema = z.object({ ack: ackSchema.optional() }).strict()

/** Query parameters of `GET` (and `HEAD`): strict too, so a misspelt `verfy=true` is a 400. */
export const getItemQuerySchema = z
  .object({
    /** `true` → `engine.getVerified`: the content is re-hashed, corrupt content in L3 is a 500 `corruption`. */
    verify: z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .transform((value) => value === 'true')
      .optional(),
  })
  .strict()
