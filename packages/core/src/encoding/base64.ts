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
  let binary = ''
  for (let start = 0; start < bytes.length; start += SLICE) {
    binary += String.fromCharCode.apply(null, bytes.subarray(start, start + SLICE) as unknown as number[])
  }
  return btoa(binary)
}

/** The bytes of canonical padded base64, or undefined for any other text. */
export function parseBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}
