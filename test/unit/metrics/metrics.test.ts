import { readFileSync } from 'node:fs'
import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api'
import {
  DataPointType,
  type HistogramMetricData,
  MeterProvider,
  type MetricData,
  MetricReader,
} from '@opentelemetry/sdk-metrics'
import {
  type BackendOperation,
  type BreakerState,
  ENGINE_METER_NAME,
  ENGINE_METER_VERSION,
  ENGINE_METRICS,
  EngineMetrics,
  type EngineOperation,
  type MetricsSource,
  type ReadTier,
} from '@sync-engine/core/internal'
import { afterEach, describe, expect, it, vi } from 'vitest'

/** A pull reader: the test decides when a collection happens. */
class TestReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

interface Harness {
  readonly metrics: EngineMetrics
  readonly collect: () => Promise<Map<string, MetricData>>
}

const providers: MeterProvider[] = []
afterEach(async () => {
  for (const provider of providers.splice(0)) await provider.shutdown()
})

function harness(wrap: (meter: Meter) => Meter = (meter) => meter): Harness {
  const reader = new TestReader()
  const provider = new MeterProvider({ readers: [reader] })
  providers.push(provider)
  const metrics = new EngineMetrics(wrap(provider.getMeter(ENGINE_METER_NAME, ENGINE_METER_VERSION)))
  return {
    metrics,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect()
      expect(errors).toEqual([])
      const byName = new Map<string, MetricData>()
      for (const scope of resourceMetrics.scopeMetrics) {
        expect(scope.scope.name).toBe(ENGINE_METER_NAME)
        for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric)
      }
      return byName
    },
  }
}

function metric(collected: Map<string, MetricData>, name: string): MetricData {
  const found = collected.get(name)
  if (!found) throw new Error(`metric ${name} was not collected (got ${[...collected.keys()].join(', ')})`)
  return found
}

/** The data points of a counter or gauge as [attributes, value] pairs. */
function points(collected: Map<string, MetricData>, name: string): [Attributes, number][] {
  const data = metric(collected, name)
  if (
    data.dataPointType === DataPointType.HISTOGRAM ||
    data.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM
  ) {
    throw new Error(`${name} is a histogram`)
  }
  return data.dataPoints.map((point) => [point.attributes, point.value])
}

function value(
  collected: Map<string, MetricData>,
  name: string,
  attributes: Attributes = {},
): number | undefined {
  return points(collected, name).find(([attrs]) => sameAttributes(attrs, attributes))?.[1]
}

function sameAttributes(a: Attributes, b: Attributes): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key])
}

function histogram(collected: Map<string, MetricData>, name: string, attributes: Attributes) {
  const data = metric(collected, name)
  if (data.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a histogram`)
  const point = (data as HistogramMetricData).dataPoints.find((p) => sameAttributes(p.attributes, attributes))
  if (!point) throw new Error(`${name} has no point for ${JSON.stringify(attributes)}`)
  return point.value
}

interface FakeParts {
  l1: { count: number; bytes: number; evictions: number }
  queue: { depth: number; bytes: number }
  wal: { entries: number; bytes: number; maxBytes: number }
  filter: { size: number }
  breakers: { tier: 'l2' | 'l3'; state: BreakerState; rejections: number; failures: number }[]
  level: number
  l2Reads: { corruptReads: number; failedReads: number }
}

function fakeParts(): FakeParts {
  return {
    l1: { count: 12, bytes: 4096, evictions: 3 },
    queue: { depth: 5, bytes: 1500 },
    wal: { entries: 7, bytes: 2048, maxBytes: 1 << 20 },
    filter: { size: 1000 },
    breakers: [
      { tier: 'l2', state: 'half-open', rejections: 4, failures: 9 },
      { tier: 'l3', state: 'open', rejections: 11, failures: 5 },
    ],
    level: 2,
    l2Reads: { corruptReads: 2, failedReads: 6 },
  }
}

/** A source over `parts`, every getter a spy so the tests can count reads. */
function sourceOf(parts: FakeParts) {
  return {
    l1: vi.fn(() => parts.l1),
    queue: vi.fn(() => parts.queue),
    wal: vi.fn(() => parts.wal),
    filter: vi.fn(() => parts.filter),
    breakers: vi.fn(() => parts.breakers),
    backpressureLevel: vi.fn(() => parts.level),
    l2Reads: vi.fn(() => parts.l2Reads),
  } satisfies MetricsSource
}

describe('metric definitions', () => {
  it('has unique names under one prefix, each with a unit and a description', () => {
    const definitions = Object.values(ENGINE_METRICS)
    const names = definitions.map((d) => d.name)
    expect(new Set(names).size).toBe(names.length)
    for (const d of definitions) {
      expect(d.name).toMatch(/^sync_engine\.[a-z0-9_.]+$/)
      expect(d.unit).not.toBe('')
      expect(d.description).not.toBe('')
    }
  })

  it('reports the scope version of @sync-engine/core', () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../../packages/core/package.json', import.meta.url), 'utf8'),
    )
    expect(ENGINE_METER_VERSION).toBe(pkg.version)
  })

  it('registers every instrument with its name, unit and description', async () => {
    const { metrics, collect } = harness()
    metrics.observe(sourceOf(fakeParts()))
    metrics.operation('get')
    metrics.tierRead('l1', true)
    metrics.filterCheck(true, true)
    metrics.walAppended(1)
    metrics.walDrained(1)
    metrics.writesSuperseded(1)
    metrics.recordFlush(10, 5)
    metrics.backendCall('l3', 'write', 3)
    const collected = await collect()
    for (const definition of Object.values(ENGINE_METRICS)) {
      const { descriptor } = metric(collected, definition.name)
      expect(descriptor.unit).toBe(definition.unit)
      expect(descriptor.description).toBe(definition.description)
    }
    expect(collected.size).toBe(Object.keys(ENGINE_METRICS).length)
  })
})

describe('observable instruments', () => {
  it('reports levels and totals read from the source', async () => {
    const { metrics, collect } = harness()
    const parts = fakeParts()
    metrics.observe(sourceOf(parts))
    const c = await collect()
    const m = ENGINE_METRICS
    expect(value(c, m.l1Items.name)).toBe(12)
    expect(value(c, m.l1Size.name)).toBe(4096)
    expect(value(c, m.l1Evictions.name)).toBe(3)
    expect(value(c, m.queueDepth.name)).toBe(5)
    expect(value(c, m.queueSize.name)).toBe(1500)
    expect(value(c, m.walDepth.name)).toBe(7)
    expect(value(c, m.walSize.name)).toBe(2048)
    expect(value(c, m.filterItems.name)).toBe(1000)
    expect(value(c, m.backpressureLevel.name)).toBe(2)
    expect(value(c, m.l2CorruptReads.name)).toBe(2)
    expect(value(c, m.l2FailedReads.name)).toBe(6)
    expect(points(c, m.breakerState.name)).toEqual([
      [{ tier: 'l2' }, 1],
      [{ tier: 'l3' }, 2],
    ])
    expect(value(c, m.breakerRejections.name, { tier: 'l2' })).toBe(4)
    expect(value(c, m.breakerRejections.name, { tier: 'l3' })).toBe(11)
    expect(value(c, m.breakerFailures.name, { tier: 'l3' })).toBe(5)
    expect(metric(c, m.l1Evictions.name).dataPointType).toBe(DataPointType.SUM)
    expect(metric(c, m.l1Size.name).dataPointType).toBe(DataPointType.GAUGE)
  })

  it('reads the source lazily: once per collection, never between collections', async () => {
    const { metrics, collect } = harness()
    const parts = fakeParts()
    const source = sourceOf(parts)
    metrics.observe(source)
    metrics.operation('submit')
    metrics.tierRead('l2', false)
    for (const getter of Object.values(source)) expect(getter).not.toHaveBeenCalled()

    await collect()
    for (const getter of Object.values(source)) expect(getter).toHaveBeenCalledTimes(1)

    parts.l1 = { count: 1, bytes: 10, evictions: 8 }
    parts.breakers = [{ tier: 'l2', state: 'closed', rejections: 4, failures: 9 }]
    parts.level = 4
    const c = await collect()
    for (const getter of Object.values(source)) expect(getter).toHaveBeenCalledTimes(2)
    expect(value(c, ENGINE_METRICS.l1Size.name)).toBe(10)
    expect(value(c, ENGINE_METRICS.l1Evictions.name)).toBe(8)
    expect(value(c, ENGINE_METRICS.backpressureLevel.name)).toBe(4)
    expect(value(c, ENGINE_METRICS.breakerState.name, { tier: 'l2' })).toBe(0)
  })

  it('skips parts that are absent, undefined or throwing, and keeps the others', async () => {
    const { metrics, collect } = harness()
    metrics.observe({
      l1: () => ({ count: 2, bytes: 64, evictions: 0 }),
      wal: () => undefined,
      filter: () => {
        throw new Error('filter closed')
      },
      backpressureLevel: () => Number.NaN,
    })
    const c = await collect()
    expect(value(c, ENGINE_METRICS.l1Size.name)).toBe(64)
    for (const name of [
      ENGINE_METRICS.walDepth.name,
      ENGINE_METRICS.filterItems.name,
      ENGINE_METRICS.backpressureLevel.name,
      ENGINE_METRICS.queueDepth.name,
      ENGINE_METRICS.breakerState.name,
    ]) {
      expect(c.get(name)?.dataPoints ?? []).toEqual([])
    }
  })

  it('stops reading a detached source; a newer source survives an older detach', async () => {
    const { metrics, collect } = harness()
    const first = sourceOf(fakeParts())
    const detachFirst = metrics.observe(first)
    await collect()
    expect(first.l1).toHaveBeenCalledTimes(1)

    const secondParts = fakeParts()
    secondParts.queue = { depth: 99, bytes: 1 }
    const second = sourceOf(secondParts)
    const detachSecond = metrics.observe(second)
    detachFirst()
    const c = await collect()
    expect(first.l1).toHaveBeenCalledTimes(1)
    expect(second.l1).toHaveBeenCalledTimes(1)
    expect(value(c, ENGINE_METRICS.queueDepth.name)).toBe(99)

    detachSecond()
    await collect()
    expect(second.l1).toHaveBeenCalledTimes(1)
  })
})

describe('event instruments', () => {
  it('counts operations by name, unknown names as other', async () => {
    const { metrics, collect } = harness()
    metrics.operation('get')
    metrics.operation('get')
    metrics.operation('submitMany')
    metrics.operation('bogus' as EngineOperation)
    const c = await collect()
    const name = ENGINE_METRICS.operations.name
    expect(value(c, name, { operation: 'get' })).toBe(2)
    expect(value(c, name, { operation: 'submitMany' })).toBe(1)
    expect(value(c, name, { operation: 'other' })).toBe(1)
    expect(points(c, name)).toHaveLength(3)
  })

  it('counts tier reads by tier and result', async () => {
    const { metrics, collect } = harness()
    metrics.tierRead('l1', true)
    metrics.tierRead('l1', false)
    metrics.tierRead('l1', false)
    metrics.tierRead('queue', true)
    metrics.tierRead('wal', true)
    metrics.tierRead('l3', false)
    metrics.tierRead('toString' as ReadTier, true)
    const c = await collect()
    const name = ENGINE_METRICS.tierReads.name
    expect(value(c, name, { tier: 'l1', result: 'hit' })).toBe(1)
    expect(value(c, name, { tier: 'l1', result: 'miss' })).toBe(2)
    expect(value(c, name, { tier: 'queue', result: 'hit' })).toBe(1)
    expect(value(c, name, { tier: 'wal', result: 'hit' })).toBe(1)
    expect(value(c, name, { tier: 'l3', result: 'miss' })).toBe(1)
    expect(value(c, name, { tier: 'other', result: 'hit' })).toBe(1)
  })

  it('counts filter checks and false positives (only after a maybe)', async () => {
    const { metrics, collect } = harness()
    metrics.filterCheck(false)
    metrics.filterCheck(false, true) // an absent answer cannot be a false positive
    metrics.filterCheck(true)
    metrics.filterCheck(true, true)
    metrics.filterCheck(true, true)
    const c = await collect()
    expect(value(c, ENGINE_METRICS.filterChecks.name, { result: 'absent' })).toBe(2)
    expect(value(c, ENGINE_METRICS.filterChecks.name, { result: 'maybe' })).toBe(3)
    expect(value(c, ENGINE_METRICS.filterFalsePositives.name)).toBe(2)
  })

  it('counts WAL appends and drains, ignoring empty batches', async () => {
    const { metrics, collect } = harness()
    metrics.walAppended(3)
    metrics.walAppended(0)
    metrics.walAppended(2)
    metrics.walDrained(4)
    metrics.walDrained(-1)
    const c = await collect()
    expect(value(c, ENGINE_METRICS.walAppended.name)).toBe(5)
    expect(value(c, ENGINE_METRICS.walDrained.name)).toBe(4)
  })

  it('records flush batch sizes and durations by outcome, in the advised buckets', async () => {
    const { metrics, collect } = harness()
    metrics.recordFlush(100, 12)
    metrics.recordFlush(300, 40)
    metrics.recordFlush(7, 3000, false)
    const c = await collect()
    const ok = { outcome: 'ok' }
    const sizes = histogram(c, ENGINE_METRICS.flushBatchSize.name, ok)
    expect(sizes.count).toBe(2)
    expect(sizes.sum).toBe(400)
    expect(sizes.min).toBe(100)
    expect(sizes.max).toBe(300)
    expect(sizes.buckets.boundaries).toEqual([1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000])
    const durations = histogram(c, ENGINE_METRICS.flushDuration.name, ok)
    expect(durations.sum).toBe(52)
    expect(durations.buckets.boundaries).toContain(0.5)
    const failed = histogram(c, ENGINE_METRICS.flushDuration.name, { outcome: 'error' })
    expect(failed.count).toBe(1)
    expect(failed.sum).toBe(3000)
    expect(histogram(c, ENGINE_METRICS.flushBatchSize.name, { outcome: 'error' }).sum).toBe(7)
  })

  it('records backend call durations by tier, operation and outcome only', async () => {
    const { metrics, collect } = harness()
    metrics.backendCall('l2', 'read', 0.8)
    metrics.backendCall('l2', 'read', 1.2)
    metrics.backendCall('l3', 'write', 25, false)
    metrics.backendCall('l3', 'SELECT * FROM secrets' as BackendOperation, 9)
    const c = await collect()
    const name = ENGINE_METRICS.backendDuration.name
    const reads = histogram(c, name, { tier: 'l2', operation: 'read', outcome: 'ok' })
    expect(reads.count).toBe(2)
    expect(reads.sum).toBeCloseTo(2)
    expect(histogram(c, name, { tier: 'l3', operation: 'write', outcome: 'error' }).sum).toBe(25)
    expect(histogram(c, name, { tier: 'l3', operation: 'other', outcome: 'ok' }).sum).toBe(9)
    expect(metric(c, name).dataPoints).toHaveLength(3)
  })
})

describe('hot-path cost', () => {
  /** Wraps the meter so every attributes object passed to add()/record() is remembered. */
  function recordingMeter(seen: unknown[]) {
    return (meter: Meter): Meter =>
      new Proxy(meter, {
        get(target, property, receiver) {
          const original = Reflect.get(target, property, receiver)
          if (property === 'createCounter' || property === 'createHistogram') {
            return (name: string, options: object) => {
              const instrument = original.call(target, name, options) as Counter & Histogram
              const method = property === 'createCounter' ? 'add' : 'record'
              const inner = instrument[method].bind(instrument)
              instrument[method] = (v: number, attributes?: Attributes) => {
                seen.push(attributes)
                inner(v, attributes)
              }
              return instrument
            }
          }
          return typeof original === 'function' ? original.bind(target) : original
        },
      })
  }

  it('passes the same attribute object on every call (nothing allocated per call)', () => {
    const first: unknown[] = []
    const second: unknown[] = []
    const { metrics: a } = harness(recordingMeter(first))
    const { metrics: b } = harness(recordingMeter(second))
    for (const metrics of [a, b]) {
      metrics.operation('get')
      metrics.tierRead('l2', true)
      metrics.filterCheck(true, true)
      metrics.walAppended(1)
      metrics.recordFlush(1, 1)
      metrics.backendCall('l3', 'read', 1, false)
    }
    expect(first.length).toBe(8)
    expect(
      first.every((attrs) => typeof attrs === 'object' && attrs !== null && Object.isFrozen(attrs)),
    ).toBe(true)
    // Two EngineMetrics, same objects: they are built once per module, not per call or instance.
    first.forEach((attrs, index) => {
      expect(second[index]).toBe(attrs)
    })
  })
})
