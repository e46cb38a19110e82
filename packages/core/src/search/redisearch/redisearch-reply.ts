import { BackendError } from '../../errors.ts'
import { replyArray, replyText } from '../../l2/redis-reply.ts'
import type { RedisReply } from '../../l2/redis-transport.ts'
import { numberOfKey } from './number-key.ts'
import {
  firstTagAttribute,
  highAttribute,
  ID_ATTRIBUTE,
  lowAttribute,
  VERSION_ATTRIBUTE,
} from './redisearch-schema.ts'
import { decodeTerm } from './term-code.ts'

/** One hit as a page needs it; `sortValue` present when sorted (null: the item has none). */
export interface RediSearchHit {
  readonly id: string
  readonly version: number
  readonly sortValue?: number | string | null
}

/** What the rows carry of the sort: nothing, the first tag of a field, or a field's number key. */
export type RowSort =
  | { readonly kind: 'none' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'tag' | 'numeric'; readonly field: string }

/**
 * The rows of an FT.AGGREGATE reply (RESP2: the count, then one flat `[name, value, …]` array per
 * row), as hits. The id is decoded from the row's `i_id` term code — the id itself, not the key
 * with its `<prefix>{<shard>}j:` stripped, because the key is not in the row unless every
 * matching document is opened to load it. The version is `%lld` text (exact below 2^63), and a
 * number sort value is rebuilt from its key's two halves, never from RediSearch's `%.12g` text.
 */
export function parseAggregateRows(reply: RedisReply, sort: RowSort): RediSearchHit[] {
  const [, ...rows] = replyArray(reply, 'FT.AGGREGATE')
  return rows.map((row) => {
    const fields = rowFields(row)
    const id = decoded(fields, ID_ATTRIBUTE)
    const version = integer(fields, VERSION_ATTRIBUTE)
    if (sort.kind === 'none') return { id, version }
    if (sort.kind === 'missing') return { id, version, sortValue: null }
    if (sort.kind === 'tag') return { id, version, sortValue: decoded(fields, firstTagAttribute(sort.field)) }
    const h = integer(fields, highAttribute(sort.field))
    const l = integer(fields, lowAttribute(sort.field))
    try {
      return { id, version, sortValue: numberOfKey(h, l) }
    } catch (error) {
      throw malformed(`${highAttribute(sort.field)}/${lowAttribute(sort.field)} are not a number key`, error)
    }
  })
}

/** What FT.INFO says of a backfill. */
export interface IndexProgress {
  /** Whether the initial scan of existing documents is still running. */
  readonly indexing: boolean
  /** 0 to 1: how much of the key space the scan has covered. */
  readonly percentIndexed: number
  /** Documents in the index (tombstones and binary items included: they have no fields). */
  readonly documents: number
  /** Documents the index refused; the projection's fixed types should keep this at 0. */
  readonly failures: number
  /** What the index reads (`JSON` or `HASH`), from `index_definition`; undefined if not said. */
  readonly keyType?: string
}

/** The FT.INFO reply (RESP2: a flat `[name, value, …]` array). */
export function parseIndexInfo(reply: RedisReply): IndexProgress {
  const info = rowFields(reply, 'FT.INFO')
  const keyType = indexDefinition(reply).get('key_type')
  const number = (name: string, fallback: number) => {
    const text = info.get(name)
    const value = text === undefined ? Number.NaN : Number(text)
    return Number.isFinite(value) ? value : fallback
  }
  return {
    indexing: number('indexing', 0) !== 0,
    percentIndexed: number('percent_indexed', 1),
    documents: number('num_docs', 0),
    failures: number('hash_indexing_failures', 0),
    ...(keyType !== undefined && { keyType: keyType.toUpperCase() }),
  }
}

/** FT.INFO's `index_definition` section (`[key_type, HASH, prefixes, […], …]`), its scalars. */
function indexDefinition(reply: RedisReply): Map<string, string> {
  const items = replyArray(reply, 'FT.INFO')
  for (let i = 0; i + 1 < items.length; i += 2) {
    const name = items[i] ?? null
    if (typeof name !== 'string' && !(name instanceof Uint8Array)) continue
    if (replyText(name, 'FT.INFO') === 'index_definition' && Array.isArray(items[i + 1])) {
      return rowFields(items[i + 1] ?? null, 'FT.INFO')
    }
  }
  return new Map()
}

/** A flat name/value array as a map; values that are not scalars (FT.INFO's sections) are skipped. */
function rowFields(row: RedisReply, what = 'an FT.AGGREGATE row'): Map<string, string> {
  const items = replyArray(row, what)
  const fields = new Map<string, string>()
  for (let i = 0; i + 1 < items.length; i += 2) {
    const value = items[i + 1] ?? null
    if (typeof value === 'string' || typeof value === 'number' || value instanceof Uint8Array) {
      fields.set(
        replyText(items[i] ?? null, what),
        typeof value === 'number' ? String(value) : replyText(value, what),
      )
    }
  }
  return fields
}

function decoded(fields: ReadonlyMap<string, string>, name: string): string {
  const code = fields.get(name)
  if (code === undefined) throw malformed(`a row has no ${name}`)
  try {
    return decodeTerm(code)
  } catch (error) {
    throw malformed(`${name} is not a term code`, error)
  }
}

function integer(fields: ReadonlyMap<string, string>, name: string): number {
  const text = fields.get(name)
  if (text === undefined || !/^-?\d+$/.test(text)) throw malformed(`${name} is not an integer`)
  return Number(text)
}

function malformed(detail: string, cause?: unknown): BackendError {
  return new BackendError('l2', `unexpected FT.AGGREGATE reply: ${detail}`, { cause })
}
