import type { Attributes } from '@opentelemetry/api'
import type { BackendTier } from '../resilience/backend-tier.ts'

/**
 * The attribute sets instruments are recorded with, built once here. Recording passes one of these
 * frozen objects, so the hot path allocates nothing, and a value outside the tables (an untyped
 * caller) lands on `other` instead of growing the series count.
 */

/** Where the read path can find an item. */
export const READ_TIERS = ['l1', 'queue', 'wal', 'l2', 'l3'] as const
export type ReadTier = (typeof READ_TIERS)[number]

/** Engine API calls counted by `sync_engine.operations` (the method names). */
export const ENGINE_OPERATIONS = [
  'get',
  'getMany',
  'getVerified',
  'contains',
  'status',
  'getOrInsertWith',
  'submit',
  'submitMany',
  'delete',
  'deleteMany',
  'flush',
  'verify',
  'repair',
  'search',
  'defineIndex',
  'dropIndex',
  'registerPartition',
  'scanPrefix',
] as const
export type EngineOperation = (typeof ENGINE_OPERATIONS)[number]

/** L2/L3 store calls timed by `sync_engine.backend.duration`. */
export const BACKEND_OPERATIONS = [
  'read',
  'head',
  'write',
  'delete',
  'scan',
  'count',
  'ping',
  'purge',
  'init',
  'version',
] as const
export type BackendOperation = (typeof BACKEND_OPERATIONS)[number]

const BACKEND_TIERS = ['l2', 'l3'] as const satisfies readonly BackendTier[]
const OTHER = 'other'

type Table<K extends string, V> = Readonly<Record<K, V>>

function tableOf<const K extends string, V>(keys: readonly K[], make: (key: K) => V): Table<K, V> {
  const table = {} as Record<K, V>
  for (const key of keys) table[key] = make(key)
  return Object.freeze(table)
}

function attrs(values: Attributes): Attributes {
  return Object.freeze(values)
}

/** Looks `key` up in `table`; anything unknown gets `fallback`. Own properties only (no `toString`). */
export function pick<V>(table: Readonly<Record<string, V>>, key: string, fallback: V): V {
  return Object.hasOwn(table, key) ? (table[key] as V) : fallback
}

export const NO_ATTRIBUTES: Attributes = attrs({})

export const OPERATION_ATTRS = tableOf(ENGINE_OPERATIONS, (operation) => attrs({ operation }))
export const OTHER_OPERATION_ATTRS = attrs({ operation: OTHER })

export interface HitMiss {
  readonly hit: Attributes
  readonly miss: Attributes
}
export const TIER_READ_ATTRS = tableOf(
  READ_TIERS,
  (tier): HitMiss => ({ hit: attrs({ tier, result: 'hit' }), miss: attrs({ tier, result: 'miss' }) }),
)
export const OTHER_TIER_READ_ATTRS: HitMiss = {
  hit: attrs({ tier: OTHER, result: 'hit' }),
  miss: attrs({ tier: OTHER, result: 'miss' }),
}

export const FILTER_ABSENT_ATTRS = attrs({ result: 'absent' })
export const FILTER_MAYBE_ATTRS = attrs({ result: 'maybe' })

export const OUTCOME_OK_ATTRS = attrs({ outcome: 'ok' })
export const OUTCOME_ERROR_ATTRS = attrs({ outcome: 'error' })

export interface OkError {
  readonly ok: Attributes
  readonly error: Attributes
}
function okError(tier: string, operation: string): OkError {
  return {
    ok: attrs({ tier, operation, outcome: 'ok' }),
    error: attrs({ tier, operation, outcome: 'error' }),
  }
}
export const BACKEND_CALL_ATTRS = tableOf(BACKEND_TIERS, (tier) =>
  tableOf(BACKEND_OPERATIONS, (operation) => okError(tier, operation)),
)
/** By tier (then `other` tier): an unknown operation still keeps its tier. */
export const OTHER_BACKEND_OPERATION_ATTRS = tableOf([...BACKEND_TIERS, OTHER], (tier) =>
  okError(tier, OTHER),
)

export const BREAKER_TIER_ATTRS = tableOf(BACKEND_TIERS, (tier) => attrs({ tier }))
export const OTHER_TIER_ATTRS = attrs({ tier: OTHER })
