import { mysqlDialect, PartitionedStore } from '@sync-engine/core/internal'
import type { PlanetScaleOptions } from './planetscale-options.ts'
import { PlanetScaleTransport } from './planetscale-transport.ts'

export interface PlanetScaleStoreOptions extends PlanetScaleOptions {
  /** Items table name. */
  table?: string
  /** How old the index definitions and partitions read by this process may get (default 5,000 ms; 0: never re-read). */
  catalogRefreshMs?: number
}

/** L3 on PlanetScale over its HTTP API (`@planetscale/database`). Nothing is sent until `init()`. */
export function createPlanetScaleStore(options: PlanetScaleStoreOptions): PartitionedStore {
  return new PartitionedStore(new PlanetScaleTransport(options), mysqlDialect, options.table, {
    ...(options.catalogRefreshMs !== undefined && { catalogRefreshMs: options.catalogRefreshMs }),
  })
}
