/**
 * FNV-1a, 32 bits, over UTF-16 code units: a short fingerprint of a text (a cursor's query), not
 * a defence against someone choosing texts to collide. Written here because it is six lines and
 * the core takes no dependency for it.
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}
