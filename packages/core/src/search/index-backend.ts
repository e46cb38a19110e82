import type { Logger } from '../engine/logger.ts'
import { BackendError, ConfigError, NoTierError, type SyncError } from '../errors.ts'
import { isCorrupt } from '../l2/corrupt-value.ts'
import { RedisStore } from '../l2/redis-store.ts'
import type { RecordHead } from '../l3/stored-record.ts'
import type { GuardedCall } from '../tiers/guarded-call.ts'
import type { L2Tier } from '../tiers/l2-tier.ts'
import type { L3Tier } from '../tiers/l3-tier.ts'
import { asSyncError } from '../write/write-failures.ts'
import type { IndexSearch } from './l3-search.ts'
import { RediSearchIndexes } from './redisearch/redisearch-indexes.ts'

/** Where searches are answered (`searchBackend`): L3's side tables, or RediSearch over L2. */
export type SearchBackendName = 'sql' | 'redis'

/** A search backend as the engine uses it: its indexes, the breaker of its tier, and the versions that tier holds. */
export interface IndexBackend {
  readonly guard: GuardedCall
  readonly search: IndexSearch
  /** The versions the backend's tier holds (pending writes newer than these are merged in). */
  heads(ids: readonly string[]): Promise<ReadonlyMap<string, RecordHead>>
}

export function sqlIndexBackend(l3: L3Tier | undefined): IndexBackend | undefined {
  const search = l3?.store.search
  if (!l3 || !search) return undefined
  return { guard: l3.guard, search, heads: (ids) => l3.store.head(ids) }
}

/**
 * RediSearch over L2, opened once L2 is connected (it needs the server's capabilities: the query
 * engine, not a cluster; ON JSON with RedisJSON, else ON HASH) with the definitions kept in Redis.
 */
export class RedisIndexBackend {
  #backend: IndexBackend | undefined
  /** Why a Redis connected after start cannot serve searches. */
  #refused: SyncError | undefined

  constructor(private readonly l2: L2Tier | undefined) {}

  async open(): Promise<void> {
    const l2 = this.l2
    if (!l2 || !(l2.store instanceof RedisStore)) {
      throw new NoTierError('searchBackend "redis" needs a Redis L2 (SYNC_REDIS_URL): this engine has none')
    }
    if (!l2.store.searchProjections) {
      throw new ConfigError(
        'searchBackend "redis" needs the Redis store opened with searchProjections: true (createEngineFromConfig and the serverless entries do it)',
        ['searchBackend'],
      )
    }
    const search = new RediSearchIndexes(l2.store)
    await l2.guard.run('read', () => search.load())
    const store = l2.store
    this.#backend = {
      guard: l2.guard,
      search,
      heads: async (ids) => {
        const found = await store.head(ids)
        const heads = new Map<string, RecordHead>()
        for (const [id, head] of found) if (!isCorrupt(head)) heads.set(id, head)
        return heads
      },
    }
  }

  /**
   * Opens it once an L2 that was unreachable at start connects. A server that cannot serve it (no
   * query engine, a cluster) leaves L2 in use and searches refused with that reason; an outage
   * rejects, so the connect is tried again.
   */
  async openLater(logger: Logger): Promise<void> {
    try {
      await this.open()
      this.#refused = undefined
    } catch (error) {
      if (error instanceof BackendError) throw error
      this.#refused = asSyncError(error)
      logger.error({ err: this.#refused.message }, 'searchBackend "redis": search on Redis refused')
    }
  }

  get backend(): IndexBackend {
    if (this.#refused) throw this.#refused
    if (!this.#backend) {
      throw new BackendError(
        'l2',
        'search on Redis is not open yet: Redis has been unreachable since start (it opens when Redis connects)',
      )
    }
    return this.#backend
  }
}
