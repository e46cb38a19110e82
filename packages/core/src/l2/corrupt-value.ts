/**
 * What L2 returns for a key it cannot decode: garbage bytes, a truncated envelope, a foreign
 * format, or a key of the wrong Redis type (WRONGTYPE). It is neither an item nor an error: the
 * engine counts it, treats it as a miss and repairs the key from L3.
 */
export class CorruptValue {
  readonly corrupt = true as const

  constructor(
    readonly id: string,
    /** Why decoding failed, for logs and metrics; never contains the value. */
    readonly reason: string,
  ) {}
}

export function isCorrupt(value: unknown): value is CorruptValue {
  return value instanceof CorruptValue
}
