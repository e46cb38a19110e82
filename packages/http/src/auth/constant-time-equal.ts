/**
 * Byte comparison whose running time depends only on the lengths involved, never on where the
 * first difference is. (Runtime-agnostic: `node:crypto.timingSafeEqual` is not available on every
 * runtime this package targets, and it throws on a length mismatch.) A JS engine gives no hard
 * guarantee, but nothing here branches on secret bytes: no early exit, no short-circuit.
 */
export function constantTimeEqual(presented: Uint8Array, expected: Uint8Array): boolean {
  let diff = presented.length ^ expected.length
  // Walk the expected (secret) bytes in full whatever was presented.
  for (let i = 0; i < expected.length; i++) diff |= (presented[i] ?? 0) ^ expected[i]!
  return diff === 0
}

/**
 * Whether `presented` equals any of `expected`. Every token is compared, even after a match, so
 * the time does not tell which token matched or how many there are before it.
 */
export function matchesAnyToken(presented: Uint8Array, expected: readonly Uint8Array[]): boolean {
  let matched = 0
  for (const token of expected) matched |= constantTimeEqual(presented, token) ? 1 : 0
  return matched === 1
}
