import { metrics as otel } from '@opentelemetry/api'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import {
  ENGINE_METER_NAME,
  ENGINE_METRICS,
  EngineMetrics,
  type MetricsSource,
} from '@sync-engine/core/internal'
import { afterEach, describe, expect, it, vi } from 'vitest'

// The global meter provider is process state: this file owns it, the other metrics tests pass a meter.

class TestReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

function spySource() {
  return {
    l1: vi.fn(() => ({ count: 1, bytes: 2, evictions: 3 })),
    queue: vi.fn(() => ({ depth: 1, bytes: 2 })),
    wal: vi.fn(() => ({ entries: 1, bytes: 2 })),
    filter: vi.fn(() => ({ size: 1 })),
    breakers: vi.fn(() => [{ tier: 'l2' as const, state: 'open' as const, rejections: 1, failures: 1 }]),
    backpressureLevel: vi.fn(() => 1),
    l2Reads: vi.fn(() => ({ corruptReads: 1, failedReads: 1 })),
  } satisfies MetricsSource
}

function exercise(metrics: EngineMetrics, source: MetricsSource): () => void {
  const detach = metrics.observe(source)
  metrics.operation('get')
  metrics.tierRead('l1', true)
  metrics.filterCheck(true, true)
  metrics.walAppended(2)
  metrics.walDrained(2)
  metrics.writesSuperseded(1)
  metrics.recordFlush(10, 5)
  metrics.recordFlush(10, 5, false)
  metrics.backendCall('l2', 'read', 1)
  metrics.backendCall('l3', 'write', 1, false)
  return detach
}

async function engineMetricsIn(reader: TestReader) {
  const { resourceMetrics, errors } = await reader.collect()
  expect(errors).toEqual([])
  return resourceMetrics.scopeMetrics
    .filter((scope) => scope.scope.name === ENGINE_METER_NAME)
    .flatMap((scope) => scope.metrics)
}

afterEach(() => {
  otel.disable()
})

describe('EngineMetrics without an SDK', () => {
  it('runs every method without throwing, never reads the source and records nothing', async () => {
    // A provider that exists but is not registered globally: the engine must not reach it.
    const reader = new TestReader()
    const provider = new MeterProvider({ readers: [reader] })
    const metrics = new EngineMetrics()
    const source = spySource()
    const detach = exercise(metrics, source)
    detach()
    detach()
    expect(await engineMetricsIn(reader)).toEqual([])
    for (const getter of Object.values(source)) expect(getter).not.toHaveBeenCalled()
    await provider.shutdown()
  })

  it('records through the global provider once the host registers one before constructing it', async () => {
    const reader = new TestReader()
    const provider = new MeterProvider({ readers: [reader] })
    expect(otel.setGlobalMeterProvider(provider)).toBe(true)
    const source = spySource()
    const detach = exercise(new EngineMetrics(), source)
    const collected = await engineMetricsIn(reader)
    expect(collected.map((m) => m.descriptor.name).sort()).toEqual(
      Object.values(ENGINE_METRICS)
        .map((d) => d.name)
        .sort(),
    )
    expect(source.l1).toHaveBeenCalledTimes(1)
    detach()
    await provider.shutdown()
  })
})
