import { z } from 'zod'
import { InvalidArgumentError } from '../errors.ts'
import { openCursor, sealCursor } from './opaque-cursor.ts'
import { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT } from './search-query.ts'
import { describeIssues } from './zod-issues.ts'

/** A listing of live items: under a prefix (literal), with a state, a page at a time. */
export interface ListingRequest {
  readonly prefix: string
  readonly state?: string
  readonly limit: number
  readonly cursor?: string
}

const schema = z
  .object({
    prefix: z.string().max(512).default(''),
    state: z.string().min(1).max(256).optional(),
    limit: z.number().int().min(1).max(MAX_SEARCH_LIMIT).default(DEFAULT_SEARCH_LIMIT),
    cursor: z.string().min(1).max(2048).optional(),
  })
  .strict()

export function parseListingRequest(input: unknown): ListingRequest {
  const parsed = schema.safeParse(input ?? {})
  if (!parsed.success) throw new InvalidArgumentError(`invalid listing: ${describeIssues(parsed.error)}`)
  const { state, cursor, ...rest } = parsed.data
  return { ...rest, ...(state !== undefined && { state }), ...(cursor !== undefined && { cursor }) }
}

/** Opaque: the last id of the page, bound to the prefix and state it was a position in. */
export function encodeListingCursor(request: ListingRequest, lastId: string): string {
  return sealCursor({ id: lastId }, [request.prefix, request.state ?? null])
}

export function decodeListingCursor(request: ListingRequest): string | undefined {
  if (request.cursor === undefined) return undefined
  return openCursor(
    request.cursor,
    [request.prefix, request.state ?? null],
    'listing (prefix and state must stay the same)',
  ).id
}
