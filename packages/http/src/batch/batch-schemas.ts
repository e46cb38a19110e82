import { z } from 'zod'
import { ackSchema, tiersSchema, ttlMsSchema, versionSchema } from '../validation/routing-schemas.ts'

/** Most ids or ops one batch request carries. */
export const MAX_BATCH_ENTRIES = 1000

export const batchGetBodySchema = z
  .object({ ids: z.array(z.string()).max(MAX_BATCH_ENTRIES, `at most ${MAX_BATCH_ENTRIES} ids per request`) })
  .strict()

/**
 * The envelope of `POST /v1/items:batch`. Ops are validated one by one (`batchOpSchema`), so a
 * malformed op fails alone instead of failing the request.
 */
export const batchWriteBodySchema = z
  .object({
    ops: z.array(z.unknown()).max(MAX_BATCH_ENTRIES, `at most ${MAX_BATCH_ENTRIES} ops per request`),
    ack: ackSchema.optional(),
  })
  .strict()

const putOpSchema = z
  .object({
    op: z.literal('put'),
    id: z.string(),
    /** JSON content (any JSON value, `null` included). */
    value: z.unknown().optional(),
    /** Binary content, padded base64. Exactly one of `value` and `base64`. */
    base64: z.string().optional(),
    mime: z.string().optional(),
    ttl: ttlMsSchema.optional(),
    /** `["redis","sql"]` or, as in the query string, `"redis,sql"`. */
    tiers: tiersSchema.optional(),
    state: z.string().optional(),
    version: versionSchema.optional(),
  })
  .strict()

const deleteOpSchema = z.object({ op: z.literal('delete'), id: z.string() }).strict()

export const batchOpSchema = z.discriminatedUnion('op', [putOpSchema, deleteOpSchema])

export type BatchOp = z.output<typeof batchOpSchema>
export type PutOp = z.output<typeof putOpSchema>
