/**
 * The public surface of the engine: what an application or a driver author needs. Parts of the
 * engine itself (queue, L1, envelope, breaker, filter…) are exported from
 * `@sync-engine/core/internal`, for the drivers and tests of this repository; they may change.
 */
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
export { encodeBase64, parseBase64 } from './encoding/base64.ts'
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
export { MAX_ID_BYTES, validateId } from './item/item-id.ts'
export {
  BINARY_MIME,
  type ContentType,
  DEFAULT_STATE,
  type ItemMetadata,
  JSON_MIME,
  SyncItem,
} from './item/sync-item.ts'
export { CorruptValue, isCorrupt } from './l2/corrupt-value.ts'
export type { L2ScanPage, L2Store, L2Value, L2WriteEntry, L2WriteResult } from './l2/l2-store.ts'
export type {
  RedisArgument,
  RedisCapabilities,
  RedisCommand,
  RedisReply,
  RedisTransport,
} from './l2/redis-transport.ts'
export type { L3Capabilities, L3Store, L3WriteOptions, L3WriteResult, WriteCondition } from './l3/l3-store.ts'
export type { Partition } from './l3/partitions/partition-map.ts'
export type {
  SqlDialectName,
  SqlResult,
  SqlRow,
  SqlStatement,
  SqlTransport,
  SqlValue,
} from './l3/sql-transport.ts'
export { runInOrder, SKIPPED_RESULT, shouldRun } from './l3/sql-transport.ts'
export { isLive, type RecordHead, type StoredRecord } from './l3/stored-record.ts'
export { DRAIN_BATCH, type DrainOptions, type DrainReport, drainOnce } from './log/log-drainer.ts'
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
  MemoryWriteAheadLog,
  type MemoryWriteAheadLogOptions,
} from './memory/memory-write-ahead-log.ts'
export {
  ENGINE_METER_NAME,
  ENGINE_METER_VERSION,
  ENGINE_METRICS,
  type EngineMetricKey,
  type MetricDefinition,
} from './metrics/metric-definitions.ts'
export { CacheTtl, MAX_TTL_MS, validateTtl } from './options/cache-ttl.ts'
export {
  ACK_LEVELS,
  type AckLevel,
  type Route,
  SubmitOptions,
  validateSubmitOptions,
} from './options/submit-options.ts'
export { defaultPlatform, type Platform, type TimerHandle } from './platform/platform.ts'
export type { BackpressureSnapshot } from './pressure/backpressure.ts'
export { BACKPRESSURE_LEVELS, type BackpressureLevel } from './pressure/backpressure-level.ts'
export { type BreakerOptions, DEFAULT_BREAKER_OPTIONS } from './resilience/breaker-options.ts'
export type { BreakerState, BreakerStats } from './resilience/circuit-breaker.ts'
export { CircuitOpenError } from './resilience/circuit-open-error.ts'
export { DeadlineExceededError } from './resilience/deadline-exceeded-error.ts'
export { type BackgroundScope, DETACHED_SCOPE } from './runtime/background-scope.ts'
export type { FieldDefinition, FieldType, IndexDefinition } from './search/index-definition.ts'
export type { IndexStatus } from './search/l3-search.ts'
export type { SearchQuery, SearchRequest, SearchSort } from './search/search-query.ts'
export type { ListingResult, SearchResult } from './search/search-service.ts'
export type { DeleteOptions } from './write/write-preparer.ts'
