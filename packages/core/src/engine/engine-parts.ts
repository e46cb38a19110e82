import type { Meter } from '@opentelemetry/api'
import { HybridLogicalClock } from '../clock/hybrid-clock.ts'
import type { SyncConfig } from '../config/sync-config.ts'
import { ConfigError, NoTierError } from '../errors.ts'
import { FilterKeeper } from '../filter/filter-keeper.ts'
import type { SyncItem } from '../item/sync-item.ts'
import { L1Cache } from '../l1/l1-cache.ts'
import type { L2Store } from '../l2/l2-store.ts'
import type { L3Store } from '../l3/l3-store.ts'
import { PartitionService } from '../l3/partitions/partition-service.ts'
import { LogKeeper } from '../log/log-keeper.ts'
import type { WriteAheadLog } from '../log/write-ahead-log.ts'
import { EngineMetrics } from '../metrics/engine-metrics.ts'
import { OutboxWrites } from '../outbox/outbox-writes.ts'
import type { RedisOutbox } from '../outbox/redis-outbox.ts'
import type { Platform } from '../platform/platform.ts'
import { Backpressure } from '../pressure/backpressure.ts'
import { WriteQueue } from '../queue/write-queue.ts'
import { RacingWrites } from '../read/racing-writes.ts'
import { ReadResolver } from '../read/read-resolver.ts'
import type { BreakerOptions } from '../resilience/breaker-options.ts'
import { CircuitBreaker } from '../resilience/circuit-breaker.ts'
import { DETACHED_SCOPE } from '../runtime/background-scope.ts'
import { Maintenance } from '../runtime/maintenance.ts'
import { MaintenanceTimer } from '../runtime/maintenance-timer.ts'
import { RedisIndexBackend, sqlIndexBackend } from '../search/index-backend.ts'
import { mergePending } from '../search/pending-writes.ts'
import { SearchService } from '../search/search-service.ts'
import { GuardedCall } from '../tiers/guarded-call.ts'
import { L2Tier } from '../tiers/l2-tier.ts'
import { L3Tier } from '../tiers/l3-tier.ts'
import { TierWriter } from '../tiers/tier-writer.ts'
import { QueueFlusher } from '../write/queue-flusher.ts'
import { WriteAdmission } from '../write/write-admission.ts'
import { WritePath } from '../write/write-path.ts'
import { WritePreparer } from '../write/write-preparer.ts'
import { HealthProbe } from './health-probe.ts'
import type { Logger } from './logger.ts'

/** L1's staleness bound when L2 or L3 is shared with other instances (until a change feed invalidates). */
export const SHARED_L1_TTL_MS = 5_000

export interface EnginePartsInput {
  readonly config: () => SyncConfig
  readonly l2?: L2Store | undefined
  readonly l3?: L3Store | undefined
  readonly wal?: WriteAheadLog | undefined
  /** The Redis outbox (instead of `wal`), kept in `l2`. */
  readonly outbox?: RedisOutbox | undefined
  readonly platform: Platform
  readonly logger: Logger
  readonly breakers?: { l2?: Partial<BreakerOptions>; l3?: Partial<BreakerOptions> } | undefined
  readonly meter?: Meter | undefined
  /** Who runs maintenance: timers (a long-running process), or the host through `runMaintenance`. */
  readonly maintenance: 'timers' | 'manual'
}

/** Every part of an engine, wired together. The facade owns one of these and delegates to it. */
export type EngineParts = ReturnType<typeof composeEngine>

/**
 * Builds the parts and wires them: the tiers behind their breakers, the one read path, the write
 * path, the queue flushing through the one tier writer the log drain shares, and maintenance.
 */
export function composeEngine(input: EnginePartsInput) {
  const { config, platform, logger } = input
  const metrics = new EngineMetrics(input.meter)
  const breakers = {
    l2: new CircuitBreaker('l2', platform, input.breakers?.l2),
    l3: new CircuitBreaker('l3', platform, input.breakers?.l3),
  }
  const clock = new HybridLogicalClock(platform.now)
  const l1 = new L1Cache(config().l1MaxBytes, platform.now)
  const filter = new FilterKeeper(metrics, logger)
  const l2 = input.l2
    ? new L2Tier(input.l2, new GuardedCall(breakers.l2, metrics, platform), logger, () => afterL2Connect())
    : undefined
  const l3: L3Tier | undefined = input.l3
    ? new L3Tier(input.l3, new GuardedCall(breakers.l3, metrics, platform), {
        afterInit: () => warm(),
        maxPayloadBytes: () => config().maxPayloadBytes,
      })
    : undefined
  const log = input.wal ? new LogKeeper(input.wal, metrics, logger, config().queueMaxBytes) : undefined
  if (input.outbox && (input.wal || !l2)) {
    throw new ConfigError(
      input.wal
        ? 'an engine keeps its writes in one log: a write-ahead log or the Redis outbox, not both'
        : 'the Redis outbox lives in L2: an engine with an outbox needs its l2 store',
      ['log'],
    )
  }
  const races = new RacingWrites()
  const pressure = new Backpressure()
  const writer = new TierWriter({
    l2,
    l3,
    logger,
    now: platform.now,
    dropFromL1: (id, version) => {
      l1.deleteIfVersion(id, version)
    },
    filter,
  })
  const maintenance = new Maintenance({
    log,
    writer,
    l2,
    l3,
    clock,
    metrics,
    logger,
    platform,
    tombstoneRetentionMs: () => config().tombstoneRetentionMs,
    purges: input.outbox === undefined,
  })
  const timer = input.maintenance === 'timers' ? new MaintenanceTimer(maintenance, platform) : undefined
  let admission: WriteAdmission | undefined
  const flusher = new QueueFlusher({
    writer,
    log,
    metrics,
    logger,
    platform,
    afterBatch: () => {
      maintenance.noteWrites()
      admission?.update()
      timer?.poke()
    },
    observeVersion: (version) => clock.observe(version),
  })
  const queue = new WriteQueue({
    maxCount: config().batchFlushCount,
    maxBytes: config().batchFlushBytes,
    maxAgeMs: config().batchFlushMs,
    platform,
    flushBatch: flusher.flushBatch,
    onFlushError: (error, ids) =>
      logger.error({ err: error.message, ids }, 'flush failed; writes stay queued'),
  })
  admission = new WriteAdmission({
    pressure,
    l1,
    queue,
    log: input.wal ?? input.outbox,
    platform,
    hasL3: l3 !== undefined,
    queueMaxBytes: () => config().queueMaxBytes,
  })
  const l1TtlMs = resolveL1Ttl(config, l2 !== undefined, input.l3?.capabilities.shared === true)
  const outbox =
    input.outbox && l2
      ? new OutboxWrites({ outbox: input.outbox, l2, l3, clock, l1, races, filter, platform })
      : undefined
  const resolver = new ReadResolver({
    l1,
    queue,
    log,
    filter,
    l2,
    l3,
    races,
    clock,
    metrics,
    platform,
    l1TtlMs,
    ...(outbox && { outboxWrites: outbox.recent }),
  })
  const preparer = new WritePreparer({
    hasL2: l2 !== undefined,
    hasL3: l3 !== undefined,
    platform,
    clock,
    l1,
    queue,
    log,
    races,
    resolver,
    payloadLimit: () => l3?.payloadLimit ?? config().maxPayloadBytes,
  })
  const writes = new WritePath({
    preparer,
    admission,
    queue,
    log,
    outbox,
    upgradeQueued: input.maintenance === 'manual',
    filter,
    defaultAck: () => config().defaultAck,
  })
  const redisIndexes = new RedisIndexBackend(l2)
  const search = new SearchService({
    l3,
    indexes: () => {
      if (config().searchBackend === 'redis') return redisIndexes.backend
      const backend = sqlIndexBackend(l3)
      if (!backend) {
        throw new NoTierError(
          'search needs an SQL L3 (SQLite or MySQL) or searchBackend "redis": this engine has neither',
        )
      }
      return backend
    },
    deleteStored: async (ids) => {
      const results = await writes.deleteMany(ids, { ack: 'stored' })
      let deleted = 0
      let failed = 0
      for (const result of results) {
        if (!result.ok) failed++
        else if (result.value.existed) deleted++
      }
      return { deleted, failed }
    },
    // Read your writes: what this engine holds queued, what it parked in the log while L3 was
    // down (until the drain stores it), and what it put in the outbox.
    pending: {
      under: async (prefix) => {
        const queued = queue
          .newestWhere((write) => write.route.l3 && write.id.startsWith(prefix))
          .map(({ id, version, item, expiresAt }) => ({ id, version, item, expiresAt }))
        const sources = [queued]
        if (log && log.parked.size > 0) sources.push(await log.parkedUnder(prefix))
        if (outbox) sources.push(outbox.recent.under(prefix))
        return mergePending(sources)
      },
      settled: (id, version) => outbox?.recent.settled(id, version),
    },
    readMany: async (ids) => {
      const items = await resolver.items(ids, { scope: DETACHED_SCOPE })
      const found = new Map<string, SyncItem>()
      items.forEach((item, index) => {
        if (item !== undefined) found.set(ids[index]!, item)
      })
      return found
    },
    now: platform.now,
  })
  const hooks = { filterOnConnect: false, searchOnConnect: false }
  const probes = {
    l2: l2 ? new HealthProbe(() => l2.ping(), platform) : undefined,
    l3: l3 ? new HealthProbe(() => l3.ping(), platform) : undefined,
  }

  /**
   * What needs L3 once it is connected: the clock (versions keep increasing across restarts:
   * never issue one below what L3 holds) and, for a single writer, the existence filter.
   */
  async function warm(): Promise<void> {
    clock.observe(await l3!.maxVersion())
    // At start the filter is built once every tier is connected (state `warming`); an L3 that
    // connects later brings it up then.
    if (hooks.filterOnConnect && config().l3SingleWriter) await rebuildFilter()
  }

  /**
   * An L2 that was unreachable at start, connected now: RediSearch can be opened (at start it is
   * opened by the start itself, which fails on a server without the query engine).
   */
  async function afterL2Connect(): Promise<void> {
    if (hooks.searchOnConnect && config().searchBackend === 'redis') await redisIndexes.openLater(logger)
  }

  /** The filter from every tier's ids: L3's, and L2's (cache-only items live there alone). */
  function rebuildFilter(): Promise<void> {
    const now = platform.now()
    return filter.rebuild([
      ...(l3 ? [l3.scanIds(now)] : []),
      ...(l2?.connection.connected ? [l2.scanIds()] : []),
    ])
  }

  for (const breaker of Object.values(breakers)) {
    breaker.onStateChange((state, previous) => {
      logger.warn({ tier: breaker.tier, state, previous }, 'circuit breaker changed state')
      probes[breaker.tier]?.invalidate()
      if (state === 'closed') timer?.poke()
    })
  }
  pressure.onChange((_level, previous) =>
    logger.warn({ previous, ...pressure.snapshot() }, 'backpressure level changed'),
  )

  return {
    config,
    platform,
    logger,
    metrics,
    breakers,
    clock,
    l1,
    l1TtlMs,
    filter,
    l2,
    l3,
    log,
    outbox,
    races,
    pressure,
    writer,
    maintenance,
    timer,
    flusher,
    queue,
    admission,
    resolver,
    preparer,
    writes,
    search,
    redisIndexes,
    partitions: new PartitionService(l3),
    probes,
    hooks,
    rebuildFilter,
  }
}

/**
 * L1's staleness bound: `l1TtlMs` when configured (0: none), else `SHARED_L1_TTL_MS` when L2 or
 * L3 is shared with other instances (they may write a newer version this L1 never hears of),
 * else none (the embedded default: this process is the only writer).
 */
function resolveL1Ttl(config: () => SyncConfig, hasL2: boolean, sharedL3: boolean): () => number | undefined {
  return () => {
    const configured = config().l1TtlMs
    if (configured !== undefined) return configured === 0 ? undefined : configured
    return hasL2 || sharedL3 ? SHARED_L1_TTL_MS : undefined
  }
}
