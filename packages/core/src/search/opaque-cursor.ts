import { decodeBase64Url, encodeBase64Url } from '../encoding/base64.ts'
import { fnv1a32 } from '../encoding/fnv1a.ts'
import { InvalidArgumentError } from '../errors.ts'

const NOT_OURS = 'cursor: not a cursor this API gave out'

/**
 * A keyset position as an opaque token: base64url of the position and a hash of the request it is
 * a position in (`scope`: index, query and sort; or prefix and state), so a cursor replayed
 * against another request is refused rather than skipping or repeating items.
 */
export function sealCursor(position: object, scope: unknown): string {
  return encodeBase64Url(JSON.stringify({ ...position, h: scopeHash(scope) }))
}

/** The position a token holds, with its string `id`; `mismatch` says what must stay the same. */
export function openCursor(
  token: string,
  scope: unknown,
  mismatch: string,
): { id: string } & Record<string, unknown> {
  let parsed: { id?: unknown; h?: unknown } & Record<string, unknown>
  try {
    parsed = JSON.parse(decodeBase64Url(token)) as typeof parsed
  } catch {
    throw new InvalidArgumentError(NOT_OURS)
  }
  if (typeof parsed?.id !== 'string' || typeof parsed.h !== 'string') throw new InvalidArgumentError(NOT_OURS)
  if (parsed.h !== scopeHash(scope))
    throw new InvalidArgumentError(`cursor: it belongs to another ${mismatch}`)
  const { h: _hash, ...position } = parsed
  return position as { id: string } & Record<string, unknown>
}

/** Garbage in an otherwise well-formed token. */
export function badCursor(): InvalidArgumentError {
  return new InvalidArgumentError(NOT_OURS)
}

function scopeHash(scope: unknown): string {
  return fnv1a32(JSON.stringify(scope)).toString(36)
}
