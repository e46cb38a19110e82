import { InvalidIdError } from '../errors.ts'

export const MAX_ID_BYTES = 512

const encoder = new TextEncoder()

/**
 * Ids are 1–512 bytes of UTF-8 with no control characters (C0, DEL, C1). A lone surrogate has no
 * UTF-8 form, so it is rejected too rather than silently replaced.
 */
export function validateId(id: unknown): string {
  if (typeof id !== 'string') throw new InvalidIdError(`id must be a string, got ${typeof id}`)
  if (id.length === 0) throw new InvalidIdError('id must not be empty')
  // Each UTF-16 unit encodes to at most 3 UTF-8 bytes, so short ids skip the encode.
  const bytes = id.length * 3 <= MAX_ID_BYTES ? id.length : encoder.encode(id).length
  if (bytes > MAX_ID_BYTES) {
    throw new InvalidIdError(`id is ${bytes} bytes of UTF-8; the limit is ${MAX_ID_BYTES}`)
  }
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i)
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      throw new InvalidIdError(
        `id contains the control character U+${c.toString(16).padStart(4, '0')} at ${i}`,
      )
    }
  }
  if (!id.isWellFormed()) throw new InvalidIdError('id contains a lone surrogate (not valid UTF-8)')
  return id
}

/** Index of the first control character (C0, DEL or C1), or -1. */
export function controlCharacterIndex(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return i
  }
  return -1
}
