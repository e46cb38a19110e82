import type { RedisKeyLayout } from '../../l2/key-layout.ts'
import type { RedisCommand } from '../../l2/redis-transport.ts'
import { type FieldDefinition, type IndexDefinition, pathSegments } from '../index-definition.ts'
import {
  HASH_EXPIRES_FIELD,
  HASH_ID_FIELD,
  HASH_TAG_SEPARATOR,
  HASH_VERSION_FIELD,
  hashField,
} from './search-projection-hash.ts'

/**
 * How an index definition becomes a RediSearch index over the `x` projection of the `j:` JSON
 * documents (search-projection-document.ts), or, on a server without RedisJSON, over the same
 * projection flattened into the `h:` hashes (search-projection-hash.ts), and the names the query
 * translator uses. Both key types get the same attribute names, so queries and pages are the same
 * commands on either.
 *
 * Attributes (aliases; user field names start with a letter, so the one-letter kind prefixes never
 * collide with each other or with the internal `i_` ones):
 * - `i_e` NUMERIC: the expiry (0 for none); liveness is `i_e = 0 or i_e > now`. A tombstone or a
 *   binary item has no `x`, so it has no `i_e` and never matches.
 * - `i_id` TAG SORTABLE NOINDEX: the id's term code, for id order and the keyset position.
 * - `i_v` NUMERIC SORTABLE NOINDEX: the version, returned with each hit without opening documents.
 * - tag field `f`: `f_f` TAG on the tag codes; sortable: INDEXMISSING (which side of the
 *   missing-last split an item is on) and `s_f` TAG SORTABLE NOINDEX on the first tag.
 * - numeric field `f`: `h_f` and `l_f` NUMERIC on the halves of its number key; sortable: both
 *   SORTABLE, `h_f` INDEXMISSING.
 * - text field `f`: `f_f` TAG on the word codes.
 *
 * Every TAG is CASESENSITIVE (codes are lower case anyway: belt and braces). On JSON there is no
 * tag separator, so a tag is exactly one code; on HASH the separator is "," (stated, though it is
 * the default), which no code holds, and a sortable TAG is UNF (JSON implies it) so its value is
 * kept as written. The index covers the documents of every shard whose id starts with the index
 * prefix: one PREFIX per shard, `<redisPrefix>{<shard>}j:<prefix>` (`h:` on HASH), which
 * RediSearch matches literally. Needs RediSearch 2.10+ (Redis 8) for INDEXMISSING.
 */

/** What the index reads: JSON documents (RedisJSON present) or projection hashes. */
export type IndexKeyType = 'JSON' | 'HASH'

export const EXPIRES_ATTRIBUTE = 'i_e'
export const ID_ATTRIBUTE = 'i_id'
export const VERSION_ATTRIBUTE = 'i_v'

/** The tags of a tag field, or the words of a text field. */
export const termsAttribute = (field: string) => `f_${field}`
/** The first tag of a sortable tag field. */
export const firstTagAttribute = (field: string) => `s_${field}`
export const highAttribute = (field: string) => `h_${field}`
export const lowAttribute = (field: string) => `l_${field}`

/** The RediSearch index of a definition: named within the layout's internal namespace. */
export function indexName(layout: RedisKeyLayout, name: string): string {
  return layout.internalKey(`search:${name}`)
}

/** The hash that keeps the definitions (field: index name, value: its JSON). */
export function definitionsKey(layout: RedisKeyLayout): string {
  return layout.internalKey('search-definitions')
}

/** The key prefixes of the keys an index covers: one per shard (key-layout.ts `docKey`, `searchHashKey`). */
export function documentPrefixes(
  layout: RedisKeyLayout,
  idPrefix: string,
  keyType: IndexKeyType = 'JSON',
): string[] {
  const namespace = keyType === 'JSON' ? 'j:' : 'h:'
  return Array.from(
    { length: layout.shards },
    (_, shard) => `${layout.prefix}{${shard}}${namespace}${idPrefix}`,
  )
}

/** The JSONPath of a field's leaf in the projection: `$.address.city` → `$.x.p["address.city"]`. */
export function leafPath(field: FieldDefinition): string {
  return `$.x.p["${pathSegments(field.path).join('.')}"]`
}

export function createIndexCommand(
  layout: RedisKeyLayout,
  definition: IndexDefinition,
  keyType: IndexKeyType = 'JSON',
): RedisCommand {
  const prefixes = documentPrefixes(layout, definition.prefix, keyType)
  const json = keyType === 'JSON'
  const tag = json ? ['TAG', 'CASESENSITIVE'] : ['TAG', 'SEPARATOR', HASH_TAG_SEPARATOR, 'CASESENSITIVE']
  const sortableTag = json ? ['SORTABLE'] : ['SORTABLE', 'UNF']
  return [
    'FT.CREATE',
    indexName(layout, definition.name),
    'ON',
    keyType,
    'PREFIX',
    prefixes.length,
    ...prefixes,
    // No TEXT attribute exists, so stopwords would change nothing; 0 says so to a reader of FT.INFO.
    'STOPWORDS',
    0,
    'SCHEMA',
    ...[json ? '$.x.e' : HASH_EXPIRES_FIELD, 'AS', EXPIRES_ATTRIBUTE, 'NUMERIC'],
    ...[json ? '$.x.i' : HASH_ID_FIELD, 'AS', ID_ATTRIBUTE, ...tag, ...sortableTag, 'NOINDEX'],
    ...[json ? '$.v' : HASH_VERSION_FIELD, 'AS', VERSION_ATTRIBUTE, 'NUMERIC', 'SORTABLE', 'NOINDEX'],
    ...Object.entries(definition.fields).flatMap(([name, field]) =>
      fieldAttributes(name, field, json ? jsonSources(field) : hashSources(field), tag, sortableTag),
    ),
  ]
}

/** Where each attribute of a field is read from, in the documents or the hashes. */
interface FieldSources {
  readonly tags: string
  readonly firstTag: string
  readonly words: string
  readonly high: string
  readonly low: string
}

function jsonSources(field: FieldDefinition): FieldSources {
  const leaf = leafPath(field)
  return {
    tags: `${leaf}.t[*]`,
    firstTag: `${leaf}.t[0]`,
    words: `${leaf}.w[*]`,
    high: `${leaf}.h`,
    low: `${leaf}.l`,
  }
}

function hashSources(field: FieldDefinition): FieldSources {
  const path = pathSegments(field.path).join('.')
  return {
    tags: hashField('t', path),
    firstTag: hashField('s', path),
    words: hashField('w', path),
    high: hashField('h', path),
    low: hashField('l', path),
  }
}

function fieldAttributes(
  name: string,
  field: FieldDefinition,
  from: FieldSources,
  tag: readonly string[],
  sortableTag: readonly string[],
): string[] {
  if (field.type === 'numeric') {
    const sortable = field.sortable ? ['SORTABLE'] : []
    return [
      ...[from.high, 'AS', highAttribute(name), 'NUMERIC', ...(field.sortable ? ['INDEXMISSING'] : [])],
      ...sortable,
      ...[from.low, 'AS', lowAttribute(name), 'NUMERIC', ...sortable],
    ]
  }
  if (field.type === 'text') return [from.words, 'AS', termsAttribute(name), ...tag]
  const tags = [from.tags, 'AS', termsAttribute(name), ...tag]
  if (!field.sortable) return tags
  return [
    ...tags,
    'INDEXMISSING',
    ...[from.firstTag, 'AS', firstTagAttribute(name), ...tag, ...sortableTag, 'NOINDEX'],
  ]
}

/** Without DD: DD would delete the documents, which are L2's, not the index's. */
export function dropIndexCommand(layout: RedisKeyLayout, name: string): RedisCommand {
  return ['FT.DROPINDEX', indexName(layout, name)]
}

export function indexInfoCommand(layout: RedisKeyLayout, name: string): RedisCommand {
  return ['FT.INFO', indexName(layout, name)]
}
