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
