/**
 * Everything of the public surface (`@sync-engine/core`) plus the engine's parts, for the drivers
 * and tests of this repository: the write queue, L1, the Redis and SQL protocols (RedisStore,
 * SqlStore, dialects, envelope), the breaker, backpressure, the filter, metrics. Not a stable API.
 */

export { HybridLogicalClock, LOGICAL_PER_MS, versionTimeMs } from './clock/hybrid-clock.ts'
export { configFromEnv, loadConfig, parseConfig } from './config/load-config.ts'
export {
  ENV_VARS,
  LIVE_FIELDS,
  redactUrl,
  SECRET_FIELDS,
  type SyncConfig,
  type SyncConfigInput,
  syncConfigSchema,
} from './config/sync-config.ts'
export type { EngineState, StateListener } from './engine/engine-state.ts'
export { type Logger, silentLogger } from './engine/logger.ts'
export type {
  BulkResult,
  DeleteReceipt,
  FlushReport,
  HealthReport,
  ItemStatus,
  ReconfigureResult,
  SubmitReceipt,
  TierHealth,
} from './engine/receipts.ts'
export { type ReadOptions, SyncEngine, type SyncEngineOptions } from './engine/sync-engine.ts'
export * from './errors.ts'
export { ExistenceFilter, type ExistenceFilterOptions } from './filter/existence-filter.ts'
export { type ScanIdPagesOptions, scanIdPages } from './filter/scan-id-pages.ts'
export * from './index.ts'
export { sha256Hex } from './item/content-hash.ts'
export { MAX_ID_BYTES, validateId } from './item/item-id.ts'
export {
  isJsonDocument,
  normaliseJsonBytes,
  parseJsonBytes,
  stripJsonWhitespace,
} from './item/json-content.ts'
export {
  BINARY_MIME,
  type ContentType,
  DEFAULT_STATE,
  type ItemMetadata,
  JSON_MIME,
  SyncItem,
} from './item/sync-item.ts'
export { L1_EVICTION } from './l1/eviction-policy.ts'
export { L1Cache, type L1Entry, l1EntryBytes } from './l1/l1-cache.ts'
export { CorruptValue, isCorrupt } from './l2/corrupt-value.ts'
export { detectRedisCapabilities } from './l2/detect-capabilities.ts'
export { decodeEnvelope, ENVELOPE_FORMAT, encodeEnvelope } from './l2/envelope.ts'
export { DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_SHARDS, escapeGlob, RedisKeyLayout } from './l2/key-layout.ts'
export type { L2ScanPage, L2Store, L2Value, L2WriteEntry, L2WriteResult } from './l2/l2-store.ts'
export { isReplyError, RedisReplyError } from './l2/redis-reply-error.ts'
export { DEFAULT_TOMBSTONE_RETENTION_MS, RedisStore, type RedisStoreOptions } from './l2/redis-store.ts'
export type {
  RedisArgument,
  RedisCapabilities,
  RedisCommand,
  RedisReply,
  RedisTransport,
} from './l2/redis-transport.ts'
export type { L3Capabilities, L3Store, L3WriteOptions, L3WriteResult, WriteCondition } from './l3/l3-store.ts'
export { mysqlDialect } from './l3/mysql-dialect.ts'
export {
  MYSQL_CONNECTION_LOST,
  MYSQL_REFUSED_CONFIG,
  MYSQL_REFUSED_DATA,
  MYSQL_ROLLED_BACK,
} from './l3/mysql-errnos.ts'
export type { Partition } from './l3/partitions/partition-map.ts'
export { type L3Partitions, PartitionedStore } from './l3/partitions/partitioned-store.ts'
export { ITEM_COLUMNS, type SqlDialect } from './l3/sql-dialect.ts'
export { SqlStore } from './l3/sql-store.ts'
export type {
  SqlDialectName,
  SqlResult,
  SqlRow,
  SqlStatement,
  SqlTransport,
  SqlValue,
} from './l3/sql-transport.ts'
export { runInOrder, SKIPPED_RESULT, shouldRun } from './l3/sql-transport.ts'
export { sqliteDialect } from './l3/sqlite-dialect.ts'
export { isLive, type RecordHead, type StoredRecord } from './l3/stored-record.ts'
export {
  connectedWriter,
  DRAIN_BATCH,
  type DrainOptions,
  type DrainReport,
  drainOnce,
} from './log/log-drainer.ts'
export type {
  PendingWrite,
  SettledWrite,
  WalEntry,
  WalKey,
  WalStats,
  WriteAheadLog,
} from './log/write-ahead-log.ts'
export { MemoryL2Store, type MemoryL2StoreOptions } from './memory/memory-l2-store.ts'
export { MemoryL3Store, type MemoryL3StoreOptions } from './memory/memory-l3-store.ts'
export {
  MEMORY_WAL_ENTRY_OVERHEAD_BYTES,
  MemoryWriteAheadLog,
  type MemoryWriteAheadLogOptions,
  memoryWalEntryBytes,
} from './memory/memory-write-ahead-log.ts'
export { EngineMetrics } from './metrics/engine-metrics.ts'
export {
  BACKEND_OPERATIONS,
  type BackendOperation,
  ENGINE_OPERATIONS,
  type EngineOperation,
  READ_TIERS,
  type ReadTier,
} from './metrics/metric-attributes.ts'
export {
  ENGINE_METER_NAME,
  ENGINE_METER_VERSION,
  ENGINE_METRICS,
  type EngineMetricKey,
  type MetricDefinition,
} from './metrics/metric-definitions.ts'
export type { MetricsSource } from './metrics/metrics-source.ts'
export { CacheTtl, MAX_TTL_MS, validateTtl } from './options/cache-ttl.ts'
export {
  ACK_LEVELS,
  type AckLevel,
  type Route,
  SubmitOptions,
  validateSubmitOptions,
} from './options/submit-options.ts'
export {
  DEFAULT_FLUSH_RESERVE_MS,
  type FlushOutboxOptions,
  type FlushOutboxReport,
  flushOutbox,
} from './outbox/flush-outbox.ts'
export { type OutboxRedis, OutboxShardLog } from './outbox/outbox-shard-log.ts'
export { type OutboxOutcome, RedisOutbox, type RedisOutboxOptions } from './outbox/redis-outbox.ts'
export { defaultPlatform, type Platform, type TimerHandle } from './platform/platform.ts'
export {
  Backpressure,
  type BackpressureAdmission,
  type BackpressureAdmitOptions,
  type BackpressureListener,
  type BackpressureSnapshot,
  type PressureFill,
  type PressureInputs,
  type PressureSource,
} from './pressure/backpressure.ts'
export { BACKPRESSURE_LEVELS, type BackpressureLevel, severity } from './pressure/backpressure-level.ts'
export {
  type BackpressureOptions,
  DEFAULT_BACKPRESSURE_OPTIONS,
  resolveBackpressureOptions,
} from './pressure/backpressure-options.ts'
export type { FlushOutcome, QueuedWrite } from './queue/queued-write.ts'
export { WriteQueue, type WriteQueueOptions } from './queue/write-queue.ts'
export type { BackendTier } from './resilience/backend-tier.ts'
export {
  type BreakerOptions,
  DEFAULT_BREAKER_OPTIONS,
  resolveBreakerOptions,
} from './resilience/breaker-options.ts'
export {
  type BreakerState,
  type BreakerStateListener,
  type BreakerStats,
  CircuitBreaker,
  type CircuitBreakerOptions,
  type RunOptions,
} from './resilience/circuit-breaker.ts'
export { CircuitOpenError } from './resilience/circuit-open-error.ts'
export {
  type AbortListener,
  type DeadlineOptions,
  type DeadlineSignal,
  type DeadlineWork,
  MAX_TIMER_MS,
  withDeadline,
} from './resilience/deadline.ts'
export { DeadlineExceededError } from './resilience/deadline-exceeded-error.ts'
export { type FailurePredicate, isBackendFailure } from './resilience/failure-policy.ts'
export { type BackgroundScope, DETACHED_SCOPE } from './runtime/background-scope.ts'
export { PURGE_INTERVAL_MS, purgeL3 } from './runtime/purge.ts'
export { matchesQuery } from './search/evaluate-query.ts'
export { compareCodePoints } from './search/id-order.ts'
export {
  FIELD_TYPES,
  type FieldDefinition,
  type FieldType,
  type IndexDefinition,
  MAX_INDEX_FIELDS,
  parseIndexDefinition,
} from './search/index-definition.ts'
export type { L3ListingPage, L3Search, L3SearchPage } from './search/l3-search.ts'
export { mergeRanked, type RankedHit, type RankedSource } from './search/merge-ranked.ts'
export { RediSearchIndexes } from './search/redisearch/redisearch-indexes.ts'
export { decodeCursor, encodeCursor, type SearchPosition } from './search/search-cursor.ts'
export {
  type SearchDocument,
  type SearchHit,
  type SearchPage,
  searchInMemory,
} from './search/search-in-memory.ts'
export { type FieldValue, type Projection, projectValue, sortValueOf } from './search/search-projection.ts'
export {
  checkQuery,
  DEFAULT_SEARCH_LIMIT,
  MAX_QUERY_NODES,
  MAX_SEARCH_LIMIT,
  parseSearchRequest,
  type SearchQuery,
  type SearchRequest,
  type SearchSort,
} from './search/search-query.ts'
export { normalizeText, textWords } from './search/search-text.ts'
export { ASSUMED_DEADLINE_MS } from './search/sql/catalog-settle.ts'
export { type IndexedWrite, refreshStatements, sideRows } from './search/sql/search-rows.ts'
export {
  mysqlSearch,
  type SearchSqlDialect,
  searchSqlDialect,
  searchTables,
  sqliteSearch,
} from './search/sql/search-sql-dialect.ts'
export {
  prefixSuccessor,
  type SearchPlan,
  searchPlan,
  searchStatement,
} from './search/sql/search-statement.ts'
export { SqlSearchTables } from './search/sql/sql-search-tables.ts'
export type { DeleteOptions } from './write/write-preparer.ts'
