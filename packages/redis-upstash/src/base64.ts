/**
 * Strict base64 (RFC 4648, padded) to bytes, without `atob`: the build has no DOM or Node types,
 * and `atob` yields a binary string that would cost a second pass anyway. Returns `undefined` for
 * text that is not padded base64, so the caller can tell a base64 reply from a plain one.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const VALUES = new Int16Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i

export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0
  const out = new Uint8Array((text.length / 4) * 3 - padding)
  let at = 0
  for (let i = 0; i < text.length; i += 4) {
    let group = 0
    for (let j = 0; j < 4; j++) {
      const code = text.charCodeAt(i + j)
      // '=' only as the last one or two characters of the text.
      const value = code === 61 && i + j >= text.length - padding ? 0 : (VALUES[code] ?? -1)
      if (value < 0) return undefined
      group = (group << 6) | value
    }
    if (at < out.length) out[at++] = group >>> 16
    if (at < out.length) out[at++] = (group >>> 8) & 0xff
    if (at < out.length) out[at++] = group & 0xff
  }
  return out
}
