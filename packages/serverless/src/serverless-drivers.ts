import type { L3Store } from '@sync-engine/core'
import type { RedisStore } from '@sync-engine/core/internal'
import type { RedisSettings, SqlSettings } from './serverless-settings.ts'

/**
 * How an entry reaches its tiers. Each entry brings only the drivers its runtime can use: the
 * Worker's are fetch-based (Upstash, PlanetScale); Lambda's are loaded on first use, so a function
 * configured for HTTP drivers never loads ioredis or mysql2 (cold start, bundle size).
 */
export interface ServerlessDrivers {
  /** L2 over the configured Redis (not connected yet: the engine's start does that). */
  redis(
    settings: RedisSettings,
    options: { prefix: string; shards: number; tombstoneRetentionMs: number; searchProjections: boolean },
  ): Promise<RedisStore>
  /** L3 over the configured SQL (no I/O until `init`). */
  sql(settings: SqlSettings, table: string): Promise<L3Store>
}
