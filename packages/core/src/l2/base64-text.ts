/** Bytes per `String.fromCharCode` call: far below any engine's argument-count limit. */
const CHUNK = 0x8000

/**
 * Standard base64 of `bytes` (with `=` padding), for transports whose wire carries text only.
 * `btoa` over latin-1 chunks: a web global in Node and Workers alike, and native.
 */
export function base64Of(bytes: Uint8Array): string {
  let latin1 = ''
  for (let at = 0; at < bytes.length; at += CHUNK) {
    latin1 += String.fromCharCode.apply(null, bytes.subarray(at, at + CHUNK) as unknown as number[])
  }
  return btoa(latin1)
}
