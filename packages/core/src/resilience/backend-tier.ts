/** The backends that can fail and have a breaker: L2 (Redis) and L3 (SQL). L1 is memory. */
export type BackendTier = 'l2' | 'l3'
