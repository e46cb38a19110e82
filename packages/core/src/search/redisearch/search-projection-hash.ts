import type { SearchProjectionDocument } from './search-projection-document.ts'
import { encodeTerm } from './term-code.ts'

/**
 * The `x` projection (search-projection-document.ts) flattened into the fields of one Redis hash,
 * for a server with the query engine but without RedisJSON (FT.CREATE … ON HASH):
 *
 *   v  the version            i  the id's term code      e  the expiry (0 for never)
 *   t_<path code>  the tag codes, joined with ","
 *   s_<path code>  the first tag code (what a sortable tag field sorts by)
 *   w_<path code>  the word codes, joined with ","
 *   h_<path code>, l_<path code>  the halves of the number key
 *
 * The path is named by its term code, so a field name is only ever `[a-z0-9_]` whatever property
 * names the content has, and the kind letters keep the names of one path apart from each other and
 * from `v`, `i` and `e`. "," is the TAG separator ON HASH; a code never holds one, so a tag or a
 * word is exactly one code there too. The first tag gets a field of its own because a SORTABLE
 * TAG ON HASH keeps the whole field value, which would order ties on the first tag by the tags
 * after it instead of by id.
 */
export const HASH_VERSION_FIELD = 'v'
export const HASH_ID_FIELD = 'i'
export const HASH_EXPIRES_FIELD = 'e'
export const HASH_TAG_SEPARATOR = ','

export type HashLeafKind = 't' | 's' | 'w' | 'h' | 'l'

/** The hash field of one kind of value at one dotted path (`a.b` for `$.a.b`). */
export function hashField(kind: HashLeafKind, path: string): string {
  return `${kind}_${encodeTerm(path)}`
}

/** The fields after `v`, as HSET's name/value pairs: none for a tombstone or binary item (null). */
export function searchProjectionHash(projection: SearchProjectionDocument | null): string[] {
  if (projection === null) return []
  const pairs = [HASH_ID_FIELD, projection.i, HASH_EXPIRES_FIELD, String(projection.e)]
  for (const [path, leaf] of Object.entries(projection.p)) {
    if (leaf.t !== undefined && leaf.t.length > 0) {
      pairs.push(hashField('t', path), leaf.t.join(HASH_TAG_SEPARATOR), hashField('s', path), leaf.t[0]!)
    }
    if (leaf.w !== undefined && leaf.w.length > 0) {
      pairs.push(hashField('w', path), leaf.w.join(HASH_TAG_SEPARATOR))
    }
    if (leaf.h !== undefined && leaf.l !== undefined) {
      pairs.push(hashField('h', path), String(leaf.h), hashField('l', path), String(leaf.l))
    }
  }
  return pairs
}
