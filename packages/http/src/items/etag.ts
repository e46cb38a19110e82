import { InvalidArgumentError } from '@sync-engine/core'

/** The strong entity tag of an item version: `"<version>"` (the ETag is the version). */
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

/** One entity tag of a conditional header (RFC 9110 §8.8.3). */
export interface EntityTag {
  readonly weak: boolean
  /** The tag between the quotes. */
  readonly opaque: string
}

/**
 * Parses a conditional header's field value: `*`, or a comma-separated list of entity tags
 * (`"abc"`, `W/"abc"`; RFC 9110 §8.8.3, §13.1.1). Anything else is an `InvalidArgumentError`
 * naming the header. Commas inside the quotes belong to the tag (`etagc` allows them).
 */
export function parseEntityTags(header: string, name: string): '*' | EntityTag[] {
  if (header.trim() === '*') return '*'
  const tags: EntityTag[] = []
  let at = 0
  const end = header.length
  for (;;) {
    // Skip OWS and empty list elements (RFC 9110 §5.6.1 lets a recipient ignore them).
    while (at < end && (header[at] === ' ' || header[at] === '\t' || header[at] === ',')) at++
    if (at === end) break
    const weak = header.startsWith('W/', at)
    if (weak) at += 2
    if (header[at] !== '"') throw malformed(name)
    const close = header.indexOf('"', at + 1)
    if (close === -1) throw malformed(name)
    const opaque = header.slice(at + 1, close)
    if (!isEtagText(opaque)) throw malformed(name)
    tags.push({ weak, opaque })
    at = close + 1
    while (at < end && (header[at] === ' ' || header[at] === '\t')) at++
    if (at < end && header[at] !== ',') throw malformed(name)
  }
  if (tags.length === 0) throw malformed(name)
  return tags
}

/** `etagc = %x21 / %x23-7E / obs-text`: visible characters but `"`, no spaces or controls. */
function isEtagText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === 0x22 || code < 0x21 || code === 0x7f || code > 0xff) return false
  }
  return true
}

function malformed(name: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `${name} must be * or a list of entity tags such as "1795628804922000" (RFC 9110 §8.8.3)`,
  )
}

/** A whole decimal version as an ETag carries it: positive and safe (`"0"` is no version). */
export function versionOfTag(tag: EntityTag): number | undefined {
  if (!/^[1-9]\d{0,15}$/.test(tag.opaque)) return undefined
  const version = Number(tag.opaque)
  return Number.isSafeInteger(version) ? version : undefined
}
