import type { BackendError } from '../errors.ts'

/** The backends that can fail: L2 (Redis) and L3 (SQL). L1 is memory and has no breaker. */
export type BackendTier = BackendError['tier']
