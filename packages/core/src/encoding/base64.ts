/**
 * Standard base64 (RFC 4648 §4, padded) over `btoa`/`atob`, which every target runtime has (Node's
 * Buffer does not exist on Workers). One implementation for the HTTP API's binary values, the
 * store's envelopes on a text-only Redis wire, and that wire's replies.
 */

/** Only canonical padded base64: what `parseBase64` accepts. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
/** `btoa` takes a "binary string": built in slices, `String.fromCharCode`'s argument count stays bounded. */
const SLICE = 0x8000

export function encodeBase64(bytes: Uint8Array): string {
  return btoa(binaryString(bytes))
}

/** Each byte as the character of that code (U+0000–U+00FF): what `btoa` takes, and a text-only wire's Latin-1 form. */
export function binaryString(bytes: Uint8Array): string {
  let binary = ''
  for (let start = 0; start < bytes.length; start += SLICE) {
    binary += String.fromCharCode.apply(null, bytes.subarray(start, start + SLICE) as unknown as number[])
  }
  return binary
}

/** The bytes of canonical padded base64, or undefined for any other text. */
export function parseBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Text as unpadded base64url (RFC 4648 §5) of its UTF-8: for tokens that travel in URLs and JSON. */
export function encodeBase64Url(text: string): string {
  return encodeBase64(encoder.encode(text)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** The text `encodeBase64Url` made; throws on anything else (bad characters, bytes that are not UTF-8). */
export function decodeBase64Url(token: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(token)) throw new Error('not base64url')
  const padded = token.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (token.length % 4)) % 4)
  const bytes = parseBase64(padded)
  if (bytes === undefined) throw new Error('not base64url')
  return decoder.decode(bytes)
}
