import { InvalidArgumentError } from '@sync-engine/core'
import type { Context } from 'hono'
import { UnmatchableEntityTagError } from '../problems/http-errors.ts'
import { parseEntityTags, versionOfTag } from './etag.ts'

/**
 * The engine's `ifVersion` for a conditional `PUT` or `DELETE` of `id`, from its headers
 * (RFC 9110 §13.1), or undefined for an unconditional write:
 *
 * - `If-Match: "<version>"` → `ifVersion: <version>` (applied only if the live item is at exactly
 *   that version). Compared strongly: a weak `W/"…"` tag, or a tag that is no version this server
 *   issues, never matches → 412 at once, nothing written.
 * - `If-None-Match: *` (PUT only) → `ifVersion: 0` (create only: applied only if no live item exists).
 *
 * Refused with 400 `invalid-argument` naming the header: a malformed value, more than one tag in
 * `If-Match`, `If-Match: *` (the engine has no "exists at any version" condition; send the
 * ETag you read), `If-None-Match` with tags on a PUT (only `*` is supported), `If-None-Match` on
 * a DELETE, and both headers on one request. Nothing is read to evaluate them: the tier that
 * applies the write checks the condition atomically.
 */
export function writeConditionOf(c: Context, id: string, method: 'PUT' | 'DELETE'): number | undefined {
  const ifMatch = c.req.header('if-match')
  const ifNoneMatch = c.req.header('if-none-match')
  if (ifNoneMatch !== undefined) {
    if (method === 'DELETE') {
      throw new InvalidArgumentError('If-None-Match is not supported on DELETE: use If-Match: "<version>"')
    }
    if (ifMatch !== undefined) {
      throw new InvalidArgumentError('give If-Match or If-None-Match, not both')
    }
    if (parseEntityTags(ifNoneMatch, 'If-None-Match') !== '*') {
      throw new InvalidArgumentError(
        'on PUT, If-None-Match supports only * (create only if absent); to replace one version use If-Match',
      )
    }
    return 0
  }
  if (ifMatch === undefined) return undefined
  const tags = parseEntityTags(ifMatch, 'If-Match')
  if (tags === '*') {
    throw new InvalidArgumentError(
      'If-Match: * is not supported: send the ETag of the version you read ("<version>"); to create only if absent, use If-None-Match: *',
    )
  }
  if (tags.length !== 1) {
    throw new InvalidArgumentError(`If-Match must name exactly one entity tag, got ${tags.length}`)
  }
  const tag = tags[0]!
  if (tag.weak) throw new UnmatchableEntityTagError(id, 'weak')
  const version = versionOfTag(tag)
  if (version === undefined) throw new UnmatchableEntityTagError(id, 'foreign')
  return version
}
