/** The strong entity tag of an item version: `"<version>"` (DESIGN §5: ETag = version). */
export function etagFor(version: number): string {
  return `"${version}"`
}

const ENTITY_TAG = /(?:W\/)?"([^"]*)"/g

/**
 * RFC 9110 §13.1.2: `If-None-Match` matches when it is `*` (any current version) or lists the
 * current tag, compared weakly (a `W/` prefix is ignored).
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header.trim() === '*') return true
  for (const match of header.matchAll(ENTITY_TAG)) {
    if (`"${match[1]}"` === etag) return true
  }
  return false
}
