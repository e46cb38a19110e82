import type { RedisKeyLayout } from '../../l2/key-layout.ts'
import type { RedisCommand } from '../../l2/redis-transport.ts'
import { type FieldDefinition, type IndexDefinition, pathSegments } from '../index-definition.ts'

/**
 * How an index definition becomes a RediSearch index over the `x` projection of the `j:` JSON
 * documents (search-projection-document.ts), and the names the query translator uses.
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
 * Every TAG is CASESENSITIVE (codes are lower case anyway: belt and braces) and on JSON there is
 * no tag separator, so a tag is exactly one code. The index covers the documents of every shard
 * whose id starts with the index prefix: one PREFIX per shard, `<redisPrefix>{<shard>}j:<prefix>`,
 * which RediSearch matches literally. Needs RediSearch 2.10+ (Redis 8) for INDEXMISSING.
 */

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

/** The key prefixes of the documents an index covers: one per shard (key-layout.ts `docKey`). */
export function documentPrefixes(layout: RedisKeyLayout, idPrefix: string): string[] {
  return Array.from({ length: layout.shards }, (_, shard) => `${layout.prefix}{${shard}}j:${idPrefix}`)
}

/** The JSONPath of a field's leaf in the projection: `$.address.city` → `$.x.p["address.city"]`. */
export function leafPath(field: FieldDefinition): string {
  return `$.x.p["${pathSegments(field.path).join('.')}"]`
}

export function createIndexCommand(layout: RedisKeyLayout, definition: IndexDefinition): RedisCommand {
  const prefixes = documentPrefixes(layout, definition.prefix)
  return [
    'FT.CREATE',
    indexName(layout, definition.name),
    'ON',
    'JSON',
    'PREFIX',
    prefixes.length,
    ...prefixes,
    // No TEXT attribute exists, so stopwords would change nothing; 0 says so to a reader of FT.INFO.
    'STOPWORDS',
    0,
    'SCHEMA',
    ...['$.x.e', 'AS', EXPIRES_ATTRIBUTE, 'NUMERIC'],
    ...['$.x.i', 'AS', ID_ATTRIBUTE, 'TAG', 'CASESENSITIVE', 'SORTABLE', 'NOINDEX'],
    ...['$.v', 'AS', VERSION_ATTRIBUTE, 'NUMERIC', 'SORTABLE', 'NOINDEX'],
    ...Object.entries(definition.fields).flatMap(([name, field]) => fieldAttributes(name, field)),
  ]
}

function fieldAttributes(name: string, field: FieldDefinition): string[] {
  const leaf = leafPath(field)
  if (field.type === 'numeric') {
    const sortable = field.sortable ? ['SORTABLE'] : []
    return [
      ...[`${leaf}.h`, 'AS', highAttribute(name), 'NUMERIC', ...(field.sortable ? ['INDEXMISSING'] : [])],
      ...sortable,
      ...[`${leaf}.l`, 'AS', lowAttribute(name), 'NUMERIC', ...sortable],
    ]
  }
  if (field.type === 'text') return [`${leaf}.w[*]`, 'AS', termsAttribute(name), 'TAG', 'CASESENSITIVE']
  const tags = [`${leaf}.t[*]`, 'AS', termsAttribute(name), 'TAG', 'CASESENSITIVE']
  if (!field.sortable) return tags
  return [
    ...tags,
    'INDEXMISSING',
    ...[`${leaf}.t[0]`, 'AS', firstTagAttribute(name), 'TAG', 'CASESENSITIVE', 'SORTABLE', 'NOINDEX'],
  ]
}

/** Without DD: DD would delete the documents, which are L2's, not the index's. */
export function dropIndexCommand(layout: RedisKeyLayout, name: string): RedisCommand {
  return ['FT.DROPINDEX', indexName(layout, name)]
}

export function indexInfoCommand(layout: RedisKeyLayout, name: string): RedisCommand {
  return ['FT.INFO', indexName(layout, name)]
}
