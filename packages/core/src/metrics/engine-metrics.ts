import {
  type BatchObservableResult,
  type Counter,
  type Histogram,
  type Meter,
  metrics,
  type Observable,
  type ObservableCounter,
  type ObservableGauge,
} from '@opentelemetry/api'
import type { BackendTier } from '../resilience/backend-tier.ts'
import type { BreakerState } from '../resilience/circuit-breaker.ts'
import {
  BACKEND_CALL_ATTRS,
  type BackendOperation,
  BREAKER_TIER_ATTRS,
  type EngineOperation,
  FILTER_ABSENT_ATTRS,
  FILTER_MAYBE_ATTRS,
  NO_ATTRIBUTES,
  type OkError,
  OPERATION_ATTRS,
  OTHER_BACKEND_OPERATION_ATTRS,
  OTHER_OPERATION_ATTRS,
  OTHER_TIER_ATTRS,
  OTHER_TIER_READ_ATTRS,
  OUTCOME_ERROR_ATTRS,
  OUTCOME_OK_ATTRS,
  pick,
  type ReadTier,
  TIER_READ_ATTRS,
} from './metric-attributes.ts'
import {
  BATCH_SIZE_BUCKETS,
  DURATION_MS_BUCKETS,
  ENGINE_METER_NAME,
  ENGINE_METER_VERSION,
  ENGINE_METRICS,
  type MetricDefinition,
} from './metric-definitions.ts'
import type { MetricsSource } from './metrics-source.ts'

const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 }

const GET_ATTRS = pick(OPERATION_ATTRS, 'get', OTHER_OPERATION_ATTRS)
const L1_READ_ATTRS = pick(TIER_READ_ATTRS, 'l1', OTHER_TIER_READ_ATTRS)

/**
 * The engine's OpenTelemetry instruments (names and units in `metric-definitions.ts`).
 *
 * Built on `@opentelemetry/api` only: without an SDK the meter is the API's no-op, every record
 * call is an empty function and the `observe` source is never read. The global meter is looked up
 * once, here: a host must register its MeterProvider before the engine is constructed (the API
 * does not upgrade meters handed out earlier), or pass a meter.
 *
 * Event methods pass pre-built attribute objects, so a call allocates nothing. Levels and totals the
 * engine already keeps are observable instruments read from `observe(source)` at collection time,
 * costing nothing on the request path.
 */
export class EngineMetrics {
  readonly meter: Meter

  readonly #operations: Counter
  readonly #tierReads: Counter
  readonly #filterChecks: Counter
  readonly #filterFalsePositives: Counter
  readonly #walAppended: Counter
  readonly #walDrained: Counter
  readonly #writesSuperseded: Counter
  readonly #flushBatchSize: Histogram
  readonly #flushDuration: Histogram
  readonly #backendDuration: Histogram

  readonly #l1Evictions: ObservableCounter
  readonly #l2CorruptReads: ObservableCounter
  readonly #l2FailedReads: ObservableCounter
  readonly #breakerRejections: ObservableCounter
  readonly #breakerFailures: ObservableCounter
  readonly #breakerState: ObservableGauge
  readonly #backpressureLevel: ObservableGauge
  readonly #l1Items: ObservableGauge
  readonly #l1Size: ObservableGauge
  readonly #queueDepth: ObservableGauge
  readonly #queueSize: ObservableGauge
  readonly #walDepth: ObservableGauge
  readonly #walSize: ObservableGauge
  readonly #filterItems: ObservableGauge
  readonly #observables: Observable[]

  #source: MetricsSource | undefined
  #registered = false

  constructor(meter: Meter = metrics.getMeter(ENGINE_METER_NAME, ENGINE_METER_VERSION)) {
    this.meter = meter
    const m = ENGINE_METRICS
    this.#operations = meter.createCounter(m.operations.name, options(m.operations))
    this.#tierReads = meter.createCounter(m.tierReads.name, options(m.tierReads))
    this.#filterChecks = meter.createCounter(m.filterChecks.name, options(m.filterChecks))
    this.#filterFalsePositives = meter.createCounter(
      m.filterFalsePositives.name,
      options(m.filterFalsePositives),
    )
    this.#walAppended = meter.createCounter(m.walAppended.name, options(m.walAppended))
    this.#walDrained = meter.createCounter(m.walDrained.name, options(m.walDrained))
    this.#writesSuperseded = meter.createCounter(m.writesSuperseded.name, options(m.writesSuperseded))
    this.#flushBatchSize = meter.createHistogram(
      m.flushBatchSize.name,
      options(m.flushBatchSize, BATCH_SIZE_BUCKETS),
    )
    this.#flushDuration = meter.createHistogram(
      m.flushDuration.name,
      options(m.flushDuration, DURATION_MS_BUCKETS),
    )
    this.#backendDuration = meter.createHistogram(
      m.backendDuration.name,
      options(m.backendDuration, DURATION_MS_BUCKETS),
    )

    this.#l1Evictions = meter.createObservableCounter(m.l1Evictions.name, options(m.l1Evictions))
    this.#l2CorruptReads = meter.createObservableCounter(m.l2CorruptReads.name, options(m.l2CorruptReads))
    this.#l2FailedReads = meter.createObservableCounter(m.l2FailedReads.name, options(m.l2FailedReads))
    this.#breakerRejections = meter.createObservableCounter(
      m.breakerRejections.name,
      options(m.breakerRejections),
    )
    this.#breakerFailures = meter.createObservableCounter(m.breakerFailures.name, options(m.breakerFailures))
    this.#breakerState = meter.createObservableGauge(m.breakerState.name, options(m.breakerState))
    this.#backpressureLevel = meter.createObservableGauge(
      m.backpressureLevel.name,
      options(m.backpressureLevel),
    )
    this.#l1Items = meter.createObservableGauge(m.l1Items.name, options(m.l1Items))
    this.#l1Size = meter.createObservableGauge(m.l1Size.name, options(m.l1Size))
    this.#queueDepth = meter.createObservableGauge(m.queueDepth.name, options(m.queueDepth))
    this.#queueSize = meter.createObservableGauge(m.queueSize.name, options(m.queueSize))
    this.#walDepth = meter.createObservableGauge(m.walDepth.name, options(m.walDepth))
    this.#walSize = meter.createObservableGauge(m.walSize.name, options(m.walSize))
    this.#filterItems = meter.createObservableGauge(m.filterItems.name, options(m.filterItems))
    this.#observables = [
      this.#l1Evictions,
      this.#l2CorruptReads,
      this.#l2FailedReads,
      this.#breakerRejections,
      this.#breakerFailures,
      this.#breakerState,
      this.#backpressureLevel,
      this.#l1Items,
      this.#l1Size,
      this.#queueDepth,
      this.#queueSize,
      this.#walDepth,
      this.#walSize,
      this.#filterItems,
    ]
  }

  /**
   * Feeds the observable instruments from `source` (replacing an earlier source). Returns the
   * function that detaches it: call it at shutdown, or a global meter keeps the engine reachable.
   */
  observe(source: MetricsSource): () => void {
    this.#source = source
    if (!this.#registered) {
      this.meter.addBatchObservableCallback(this.#collect, this.#observables)
      this.#registered = true
    }
    return () => {
      // Only the source it attached: a later observe() must not be undone by an older detach.
      if (this.#source !== source) return
      this.#source = undefined
      this.meter.removeBatchObservableCallback(this.#collect, this.#observables)
      this.#registered = false
    }
  }

  /** One engine API call (a bulk call counts once). */
  operation(operation: EngineOperation): void {
    this.#operations.add(1, pick(OPERATION_ATTRS, operation, OTHER_OPERATION_ATTRS))
  }

  /**
   * `get`'s own counts, `operation('get')` and `tierRead('l1', hit)`, with their attribute sets
   * looked up once: the L1 hit and the negative lookup are hot enough for two table lookups to show.
   */
  getCall(l1Hit: boolean): void {
    this.#operations.add(1, GET_ATTRS)
    this.#tierReads.add(1, l1Hit ? L1_READ_ATTRS.hit : L1_READ_ATTRS.miss)
  }

  /** `hits` and `misses` lookups in `tier` at once (a batched read counts once per tier). */
  tierReads(tier: ReadTier, hits: number, misses: number): void {
    const attrs = pick(TIER_READ_ATTRS, tier, OTHER_TIER_READ_ATTRS)
    if (hits > 0) this.#tierReads.add(hits, attrs.hit)
    if (misses > 0) this.#tierReads.add(misses, attrs.miss)
  }

  /** A read-path lookup in `tier`: found there (`hit`) or not. */
  tierRead(tier: ReadTier, hit: boolean): void {
    const attrs = pick(TIER_READ_ATTRS, tier, OTHER_TIER_READ_ATTRS)
    this.#tierReads.add(1, hit ? attrs.hit : attrs.miss)
  }

  /**
   * One existence-filter lookup. Call it once the answer is known: `maybe` is the filter's answer,
   * `falsePositive` whether L3 then lacked the id (only meaningful after a maybe; leave it false
   * when L3 was not asked or did not answer).
   */
  filterCheck(maybe: boolean, falsePositive = false): void {
    this.#filterChecks.add(1, maybe ? FILTER_MAYBE_ATTRS : FILTER_ABSENT_ATTRS)
    if (maybe && falsePositive) this.#filterFalsePositives.add(1, NO_ATTRIBUTES)
  }

  /** Writes appended to the log, once the append committed. */
  walAppended(writes: number): void {
    if (writes > 0) this.#walAppended.add(writes, NO_ATTRIBUTES)
  }

  /** Settled writes removed from the log (`settled.length` of a `remove()`), every tier having committed them. */
  walDrained(writes: number): void {
    if (writes > 0) this.#walDrained.add(writes, NO_ATTRIBUTES)
  }

  /** Writes a tier kept a newer version of: they did not happen. */
  writesSuperseded(writes: number): void {
    if (writes > 0) this.#writesSuperseded.add(writes, NO_ATTRIBUTES)
  }

  /** One flush batch: how many records and how long it took, and whether it succeeded. */
  recordFlush(records: number, durationMs: number, ok = true): void {
    const attrs = ok ? OUTCOME_OK_ATTRS : OUTCOME_ERROR_ATTRS
    this.#flushBatchSize.record(records, attrs)
    this.#flushDuration.record(durationMs, attrs)
  }

  /** One L2/L3 store call and its duration; `ok` false when it threw (timeouts included). */
  backendCall(tier: BackendTier, operation: BackendOperation, durationMs: number, ok = true): void {
    const byTier = pick<Readonly<Record<string, OkError>> | undefined>(BACKEND_CALL_ATTRS, tier, undefined)
    const attrs =
      (byTier && pick(byTier, operation, undefined)) ??
      pick(OTHER_BACKEND_OPERATION_ATTRS, tier, OTHER_BACKEND_OPERATION_ATTRS.other)
    this.#backendDuration.record(durationMs, ok ? attrs.ok : attrs.error)
  }

  /** The batch callback: reads each getter once per collection. */
  readonly #collect = (result: BatchObservableResult): void => {
    const source = this.#source
    if (!source) return
    const l1 = read(source.l1)
    if (l1) {
      result.observe(this.#l1Items, l1.count, NO_ATTRIBUTES)
      result.observe(this.#l1Size, l1.bytes, NO_ATTRIBUTES)
      result.observe(this.#l1Evictions, l1.evictions, NO_ATTRIBUTES)
    }
    const queue = read(source.queue)
    if (queue) {
      result.observe(this.#queueDepth, queue.depth, NO_ATTRIBUTES)
      result.observe(this.#queueSize, queue.bytes, NO_ATTRIBUTES)
    }
    const wal = read(source.wal)
    if (wal) {
      result.observe(this.#walDepth, wal.entries, NO_ATTRIBUTES)
      result.observe(this.#walSize, wal.bytes, NO_ATTRIBUTES)
    }
    const filter = read(source.filter)
    if (filter) result.observe(this.#filterItems, filter.size, NO_ATTRIBUTES)
    const level = read(source.backpressureLevel)
    if (level !== undefined && Number.isFinite(level))
      result.observe(this.#backpressureLevel, level, NO_ATTRIBUTES)
    const l2Reads = read(source.l2Reads)
    if (l2Reads) {
      result.observe(this.#l2CorruptReads, l2Reads.corruptReads, NO_ATTRIBUTES)
      result.observe(this.#l2FailedReads, l2Reads.failedReads, NO_ATTRIBUTES)
    }
    const breakers = read(source.breakers)
    if (breakers) {
      for (const stats of breakers) {
        const attrs = pick(BREAKER_TIER_ATTRS, stats.tier, OTHER_TIER_ATTRS)
        const state = pick(BREAKER_STATE_VALUE, stats.state, Number.NaN)
        if (!Number.isNaN(state)) result.observe(this.#breakerState, state, attrs)
        result.observe(this.#breakerRejections, stats.rejections, attrs)
        result.observe(this.#breakerFailures, stats.failures, attrs)
      }
    }
  }
}

function options(definition: MetricDefinition, buckets?: number[]) {
  const { description, unit } = definition
  return buckets
    ? { description, unit, advice: { explicitBucketBoundaries: buckets } }
    : { description, unit }
}

/** Calls `getter`; undefined if there is none or it throws, so one broken part blanks only its own gauges. */
function read<T>(getter: (() => T) | undefined): T | undefined {
  if (!getter) return undefined
  try {
    return getter()
  } catch {
    return undefined
  }
}
