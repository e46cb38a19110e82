import { InvalidJsonError } from '../errors.ts'

/**
 * The JSON normal form: the input's own bytes with insignificant whitespace removed. We do not
 * re-serialise through `JSON.stringify(JSON.parse(…))`: that would round integers above 2^53 and
 * rewrite escapes, so a document could not come back as the caller sent it. Stripping whitespace
 * keeps every token byte-for-byte, and the result is still the same for every tier.
 */
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

const SPACE = 0x20
const TAB = 0x09
const LF = 0x0a
const CR = 0x0d
const QUOTE = 0x22
const BACKSLASH = 0x5c

function isJsonWhitespace(b: number): boolean {
  return b === SPACE || b === LF || b === CR || b === TAB
}

/** First non-whitespace byte is `{` or `[`: the cheap test before a parse. */
export function looksLikeJsonDocument(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (isJsonWhitespace(b)) continue
    return b === 0x7b || b === 0x5b
  }
  return false
}

/** Removes whitespace outside strings. Returns the input itself when there is none to remove. */
export function stripJsonWhitespace(bytes: Uint8Array): Uint8Array {
  let inString = false
  let escaped = false
  let firstRemoval = -1
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (inString) {
      if (escaped) escaped = false
      else if (b === BACKSLASH) escaped = true
      else if (b === QUOTE) inString = false
    } else if (b === QUOTE) inString = true
    else if (isJsonWhitespace(b)) {
      firstRemoval = i
      break
    }
  }
  if (firstRemoval < 0) return bytes
  const out = new Uint8Array(bytes.length)
  out.set(bytes.subarray(0, firstRemoval))
  let n = firstRemoval
  for (let i = firstRemoval; i < bytes.length; i++) {
    const b = bytes[i]!
    if (inString) {
      if (escaped) escaped = false
      else if (b === BACKSLASH) escaped = true
      else if (b === QUOTE) inString = false
      out[n++] = b
    } else if (b === QUOTE) {
      inString = true
      out[n++] = b
    } else if (!isJsonWhitespace(b)) out[n++] = b
  }
  return out.subarray(0, n)
}

/** Parses UTF-8 JSON strictly (invalid UTF-8 is not JSON). Throws `InvalidJsonError`. */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch {
    throw new InvalidJsonError('body is not valid UTF-8')
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new InvalidJsonError(`body is not valid JSON: ${(error as Error).message}`)
  }
}

/** Normal form of a JSON document given as bytes; throws `InvalidJsonError` if it does not parse. */
export function normaliseJsonBytes(bytes: Uint8Array): Uint8Array {
  const stripped = stripJsonWhitespace(bytes)
  parseJsonBytes(stripped)
  return stripped
}

/** True when the bytes are a JSON object or array (the JSON detection rule). */
export function isJsonDocument(bytes: Uint8Array): boolean {
  if (!looksLikeJsonDocument(bytes)) return false
  try {
    parseJsonBytes(bytes)
    return true
  } catch {
    return false
  }
}
