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
  checkPortableJson(stripped)
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

/**
 * The deepest nesting a JSON document may have: MariaDB 10.11's `JSON_VALID` (the L3 column's check)
 * refuses deeper documents, and an item acknowledged on SQLite or in the outbox must be storable
 * wherever its deployment's L3 is.
 */
export const MAX_JSON_DEPTH = 31
const OPEN_ARRAY = 0x5b
const OPEN_OBJECT = 0x7b
const CLOSE_ARRAY = 0x5d
const CLOSE_OBJECT = 0x7d
const LOWER_U = 0x75

/**
 * Refuses (`InvalidJsonError`) valid JSON that an SQL L3 would refuse after the write was
 * acknowledged: nesting deeper than `MAX_JSON_DEPTH`, or an escaped lone surrogate (`"\ud800"`:
 * JSON's grammar allows it, no Unicode text holds it, and MariaDB's `JSON_VALID` says no). One pass
 * over the bytes; the surrogate check runs only where a `\u` escape of one appears.
 */
export function checkPortableJson(bytes: Uint8Array): void {
  let depth = 0
  let inString = false
  let escaped = false
  let surrogateEscape = false
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (inString) {
      if (escaped) {
        escaped = false
        if (b === LOWER_U && (bytes[i + 1] === 0x64 || bytes[i + 1] === 0x44)) surrogateEscape = true
      } else if (b === BACKSLASH) escaped = true
      else if (b === QUOTE) inString = false
    } else if (b === QUOTE) inString = true
    else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
      if (++depth > MAX_JSON_DEPTH)
        throw new InvalidJsonError(`JSON nests deeper than ${MAX_JSON_DEPTH} levels`)
    } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) depth--
  }
  if (surrogateEscape && !wellFormed(JSON.parse(decoder.decode(bytes)))) {
    throw new InvalidJsonError('JSON holds an escaped lone surrogate (\\uD800–\\uDFFF without its pair)')
  }
}

/** Every string of the value, keys included, is well-formed Unicode. */
function wellFormed(value: unknown): boolean {
  if (typeof value === 'string') return value.isWellFormed()
  if (Array.isArray(value)) return value.every(wellFormed)
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).every(([key, inner]) => key.isWellFormed() && wellFormed(inner))
  }
  return true
}
