import { BINARY_MIME, type ItemMetadata, SyncItem } from '@sync-engine/core'

/**
 * Builds the item of a `PUT` from its body and Content-Type. JSON media types (`application/json`
 * and any `…/…+json`) must parse and are stored as JSON (normalised, queryable); every other type
 * is kept byte for byte as binary, even when the bytes happen to look like JSON. The Content-Type
 * is stored as the item's `mime` and returned as is by `GET`.
 */
export function itemFromRequest(
  id: string,
  body: Uint8Array,
  contentType: string | undefined,
  meta: Omit<ItemMetadata, 'mime'>,
): SyncItem {
  const mime = contentType?.trim() || undefined
  if (mime !== undefined && isJsonMediaType(mime)) return SyncItem.fromJsonBytes(id, body, { ...meta, mime })
  return SyncItem.fromBinary(id, body, { ...meta, mime: mime ?? BINARY_MIME })
}

const JSON_SUFFIX_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*\+json$/

export function isJsonMediaType(contentType: string): boolean {
  const essence = (contentType.split(';')[0] ?? '').trim().toLowerCase()
  return essence === 'application/json' || JSON_SUFFIX_TYPE.test(essence)
}
