/**
 * Every instrument the engine reports, with its stable name and unit (UCUM, OpenTelemetry style:
 * `By` for bytes, `ms`, `{thing}` for counts). Names are a public contract — dashboards and alerts
 * are built on them — so rename nothing; add new ones instead. A Prometheus exporter turns the dots
 * into underscores and may append the unit (`sync_engine_l1_size_bytes`) and `_total` to counters;
 * coded values use a `{…}` annotation rather than `1`, which it would render as a misleading `_ratio`.
 *
 * Attributes are few and bounded (see `metric-attributes.ts`): never an id, a key, a URL or an
 * error message, which would explode the series count and could leak data or credentials.
 */
export interface MetricDefinition {
  readonly name: string
  readonly unit: string
  readonly description: string
}

export const ENGINE_METRICS = {
  // ── counters the engine increments on events ──
  operations: {
    name: 'sync_engine.operations',
    unit: '{operation}',
    description: 'Engine API calls, by operation (a bulk call counts once).',
  },
  tierReads: {
    name: 'sync_engine.tier.reads',
    unit: '{read}',
    description: 'Lookups per tier on the read path, by tier and result (hit or miss).',
  },
  filterChecks: {
    name: 'sync_engine.filter.checks',
    unit: '{check}',
    description: 'Existence-filter lookups, by result (absent or maybe).',
  },
  filterFalsePositives: {
    name: 'sync_engine.filter.false_positives',
    unit: '{check}',
    description: 'Filter answers of maybe that L3 then did not have.',
  },
  walAppended: {
    name: 'sync_engine.wal.appended',
    unit: '{write}',
    description: 'Writes appended to the write-ahead log (one entry each).',
  },
  walDrained: {
    name: 'sync_engine.wal.drained',
    unit: '{write}',
    // Counted per settled write, as `remove()` takes them: one may retire older entries of its id too.
    description:
      'Logged writes settled (removed from the log) once every tier they were routed to committed them.',
  },
  writesSuperseded: {
    name: 'sync_engine.writes.superseded',
    unit: '{write}',
    description:
      'Writes a tier kept a newer version of (not applied): another writer of the same id, or a caller-chosen version that was old.',
  },
  // ── histograms ──
  flushBatchSize: {
    name: 'sync_engine.flush.batch.size',
    unit: '{record}',
    description: 'Records per flush batch, by outcome.',
  },
  flushDuration: {
    name: 'sync_engine.flush.duration',
    unit: 'ms',
    description: 'Time to flush one batch through its tiers, by outcome.',
  },
  backendDuration: {
    name: 'sync_engine.backend.duration',
    unit: 'ms',
    description: 'Duration of one L2 or L3 call, by tier, operation and outcome.',
  },
  // ── observable counters: monotonic totals the engine already keeps ──
  l1Evictions: {
    name: 'sync_engine.l1.evictions',
    unit: '{item}',
    description: 'Items evicted from L1 to stay within its byte budget.',
  },
  l2CorruptReads: {
    name: 'sync_engine.l2.corrupt_reads',
    unit: '{read}',
    description: 'L2 values that could not be decoded: served as misses and repaired from L3.',
  },
  l2FailedReads: {
    name: 'sync_engine.l2.failed_reads',
    unit: '{read}',
    description: 'L2 reads that failed (unreachable): answered from L3.',
  },
  breakerRejections: {
    name: 'sync_engine.breaker.rejections',
    unit: '{call}',
    description: 'Calls refused by an open circuit without touching the backend, by tier.',
  },
  breakerFailures: {
    name: 'sync_engine.breaker.failures',
    unit: '{call}',
    description: 'Backend calls that counted as failures (timeouts included), by tier.',
  },
  // ── observable gauges: current levels, read on each collection ──
  breakerState: {
    name: 'sync_engine.breaker.state',
    unit: '{state}',
    description: 'Circuit state by tier: 0 closed, 1 half-open, 2 open.',
  },
  backpressureLevel: {
    name: 'sync_engine.backpressure.level',
    unit: '{level}',
    // The level is the value, not a `level` attribute: the SDK keeps exporting every attribute set an
    // observable gauge ever reported, so a name attribute would leave stale levels behind.
    description: 'Backpressure level: 0 normal, 1 warn, 2 throttle, 3 critical, 4 emergency.',
  },
  l1Items: { name: 'sync_engine.l1.items', unit: '{item}', description: 'Items held in L1.' },
  l1Size: { name: 'sync_engine.l1.size', unit: 'By', description: 'Bytes held in L1.' },
  queueDepth: {
    name: 'sync_engine.queue.depth',
    unit: '{write}',
    description: 'Writes waiting in the write queue.',
  },
  queueSize: { name: 'sync_engine.queue.size', unit: 'By', description: 'Bytes the queued writes hold.' },
  walDepth: {
    name: 'sync_engine.wal.depth',
    unit: '{entry}',
    description: 'Entries in the write-ahead log.',
  },
  walSize: { name: 'sync_engine.wal.size', unit: 'By', description: 'Bytes the log entries hold.' },
  filterItems: {
    name: 'sync_engine.filter.items',
    unit: '{item}',
    description: 'Ids held by the existence filter (adds minus removes).',
  },
} as const satisfies Record<string, MetricDefinition>

export type EngineMetricKey = keyof typeof ENGINE_METRICS

/** The meter's instrumentation scope. Keep the version equal to @sync-engine/core's (a test checks). */
export const ENGINE_METER_NAME = 'sync-engine'
export const ENGINE_METER_VERSION = '0.1.0'

/** Flush batches run from one record to the queue's batch limit: roughly ×2.5 steps up to 10k. */
export const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

/** Backend calls: sub-millisecond (loopback Redis) up to the longest deadlines (tens of seconds). */
export const DURATION_MS_BUCKETS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000]
