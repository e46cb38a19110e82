import type { Meter } from '@opentelemetry/api'
import type { SyncConfig, SyncConfigInput } from '../config/sync-config.ts'
import type { L2Store } from '../l2/l2-store.ts'
import type { L3Store } from '../l3/l3-store.ts'
import type { WriteAheadLog } from '../log/write-ahead-log.ts'
import type { RedisOutbox } from '../outbox/redis-outbox.ts'
import type { Platform } from '../platform/platform.ts'
import type { BreakerOptions } from '../resilience/breaker-options.ts'
import type { BackgroundScope } from '../runtime/background-scope.ts'
import type { Logger } from './logger.ts'

export interface SyncEngineOptions {
  /** Parsed config (`loadConfig`) or raw input, validated here. */
  config?: SyncConfig | SyncConfigInput
  /** L2, the shared cache (Redis). Optional. */
  l2?: L2Store
  /** L3, the ground truth. Absent means a memory-only engine (every write then fails with `NoTierError`). */
  l3?: L3Store
  /**
   * The durable write-ahead log: ack `logged`, replay at start, writes parked while L3 is down.
   * Without one, `logged` is served as `stored` and an unreachable L3 fails the start.
   */
  wal?: WriteAheadLog
  /**
   * The Redis outbox instead of `wal` (serverless: Lambda, Workers): `logged` writes go to L2 and
   * the outbox in one script, and a scheduled flusher (`flushOutbox`) stores them in L3.
   */
  outbox?: RedisOutbox
  platform?: Platform
  logger?: Logger
  /** Circuit breaker and deadline of each backend (defaults: `DEFAULT_BREAKER_OPTIONS`). */
  breakers?: { l2?: Partial<BreakerOptions>; l3?: Partial<BreakerOptions> }
  /** OpenTelemetry meter; default the global one (a no-op unless the host installed an SDK first). */
  meter?: Meter
  /**
   * Who runs maintenance (log drain, reconnects, L2 reconciliation, purges): `timers` (default,
   * a long-running process) or `manual` — the host calls `runMaintenance()`, e.g. per request
   * through `waitUntil`, or from a schedule, where no timer outlives a request.
   */
  maintenance?: 'timers' | 'manual'
}

/** Per-call options of a read. */
export interface ReadOptions {
  /** Where background work of this call goes (an L2 back-fill): the request's `waitUntil`. */
  scope?: BackgroundScope
}
