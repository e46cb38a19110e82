import { InvalidArgumentError } from '@sync-engine/core'

/**
 * Standard base64 (RFC 4648 §4, padded) over `atob`/`btoa`, which every target runtime has
 * (Node's Buffer does not exist on Workers).
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
/** btoa takes a "binary string"; building it in slices keeps String.fromCharCode's argument count bounded. */
const SLICE = 0x8000

export function encodeBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let start = 0; start < bytes.length; start += SLICE) {
    binary += String.fromCharCode(...bytes.subarray(start, start + SLICE))
  }
  return btoa(binary)
}

/** Throws `InvalidArgumentError` unless `text` is canonical padded base64. */
export function decodeBase64(text: string, field = 'base64'): Uint8Array {
  if (!BASE64.test(text)) throw new InvalidArgumentError(`${field} is not valid padded base64`)
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}
