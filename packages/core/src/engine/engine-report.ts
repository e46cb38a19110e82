import { parseConfig } from '../config/load-config.ts'
import { LIVE_FIELDS, type SyncConfig, type SyncConfigInput } from '../config/sync-config.ts'
import { FlushError } from '../errors.ts'
import type { FlushOutcome } from '../queue/queued-write.ts'
import type { EngineParts } from './engine-parts.ts'
import type { EngineState } from './engine-state.ts'
import type { ProbeResult } from './health-probe.ts'
import type { FlushReport, HealthReport, ReconfigureResult, TierHealth } from './receipts.ts'

/** Tiers the engine works around now. */
export function degradedTiers(parts: EngineParts): ('l2' | 'l3' | 'wal')[] {
  const { l2, l3, log } = parts
  const degraded: ('l2' | 'l3' | 'wal')[] = []
  if (l2 && (!l2.connection.connected || !l2.guard.closed || l2.staleCopies.size > 0)) degraded.push('l2')
  if (l3 && (!l3.connected || !l3.guard.closed || (log?.parked.size ?? 0) > 0)) degraded.push('l3')
  return degraded
}

/** The health report. Backend pings go through the breakers and are cached briefly (`HealthProbe`). */
export async function healthReport(parts: EngineParts, state: EngineState): Promise<HealthReport> {
  const { l1, queue, l2, l3, log, breakers, probes } = parts
  const ready = state === 'ready'
  // Everything but the pings is read now, in this tick: a caller comparing the report with other
  // synchronous readings (L1's bytes) sees one instant.
  const ttlMs = parts.l1TtlMs() ?? null
  const now = {
    l1: {
      items: l1.count,
      bytes: l1.bytes,
      maxBytes: l1.maxBytes,
      evictions: l1.evictions,
      ttlMs,
      staleness: ttlMs === null ? ('unbounded' as const) : ('bounded' as const),
    },
    queue: { depth: queue.depth, bytes: queue.bytes, consecutiveFailures: queue.consecutiveFailures },
    writes: { superseded: parts.flusher.superseded },
    degraded: degradedTiers(parts),
    breakers: { l2: breakers.l2.stats(), l3: breakers.l3.stats() },
    wal: log
      ? { configured: true as const, ...log.log.stats(), parked: log.parked.size, drained: log.drained }
      : { configured: false as const },
    // What this instance last heard of the outbox's size; the flusher drains it, not this engine.
    ...(parts.outbox && {
      outbox: { ...parts.outbox.outbox.stats(), shards: parts.outbox.outbox.shards.length },
    }),
    filter: parts.filter.snapshot(),
    l2Reconcile: { pending: l2?.staleCopies.size ?? 0 },
    backpressure: parts.pressure.snapshot(),
  }
  const l2Tier = l2 && { driver: l2.store.driver, connected: l2.connection.connected }
  const l3Tier = l3 && { driver: l3.store.driver, connected: l3.connected }
  const [l2Probe, l3Probe] = await Promise.all([
    ready && l2Tier?.connected ? probes.l2?.check() : undefined,
    ready && l3Tier?.connected ? probes.l3?.check() : undefined,
  ])
  return {
    state,
    ready,
    ...now,
    l2: {
      ...tierHealth(l2Tier, state, l2Probe, 'L2 not connected yet (unreachable at start)'),
      ...(l2 && { capabilities: l2.store.capabilities }),
      corruptReads: l2?.corruptReads ?? 0,
      failedReads: l2?.failedReads ?? 0,
    },
    l3: {
      ...tierHealth(l3Tier, state, l3Probe, 'not connected yet (started degraded)'),
      ...(l3 && { dialect: l3.store.dialect }),
    },
  }
}

function tierHealth(
  tier: { driver: string; connected: boolean } | undefined,
  state: EngineState,
  probe: ProbeResult | undefined,
  notConnected: string,
): TierHealth {
  if (!tier) return { configured: false, ok: false }
  const base = { configured: true, driver: tier.driver }
  if (state !== 'ready') return { ...base, ok: false, error: `engine is ${state}` }
  if (!tier.connected) return { ...base, ok: false, error: notConnected }
  if (!probe) return { ...base, ok: false, error: 'not probed' }
  return probe.ok
    ? { ...base, ok: true, latencyMs: probe.latencyMs ?? 0 }
    : { ...base, ok: false, error: probe.error ?? 'ping failed' }
}

/**
 * Validates a config patch and applies the fields that can change live; fields that need a
 * restart are reported, not applied, and so are fields this engine cannot change at all.
 */
export function reconfigure(
  parts: EngineParts,
  current: SyncConfig,
  patch: SyncConfigInput,
): { next: SyncConfig; result: ReconfigureResult } {
  const parsed = parseConfig({ ...current, ...patch })
  const applied: string[] = []
  const requiresRestart: string[] = []
  const unsupported: string[] = []
  for (const key of Object.keys(patch) as (keyof SyncConfig)[]) {
    if (JSON.stringify(parsed[key]) === JSON.stringify(current[key])) continue
    if (key === 'logLevel' && !('level' in parts.logger)) unsupported.push(key)
    else if ((LIVE_FIELDS as readonly string[]).includes(key)) applied.push(key)
    else requiresRestart.push(key)
  }
  const live: Partial<SyncConfig> = {}
  for (const key of applied) Object.assign(live, { [key]: parsed[key as keyof SyncConfig] })
  const next = { ...current, ...live }
  if (applied.includes('logLevel')) parts.logger.level = next.logLevel
  parts.l1.resize(next.l1MaxBytes)
  if (parts.log) parts.log.parked.maxHeldBytes = next.queueMaxBytes
  parts.queue.setThresholds({
    maxCount: next.batchFlushCount,
    maxBytes: next.batchFlushBytes,
    maxAgeMs: next.batchFlushMs,
  })
  if (applied.length || requiresRestart.length || unsupported.length) {
    parts.logger.info({ applied, requiresRestart, unsupported }, 'reconfigured')
  }
  return { next, result: { applied, requiresRestart, unsupported } }
}

/** `flush()`'s answer: what it wrote, or a `FlushError` naming the first write refused or failed (those stay queued). */
export function flushReport(outcome: FlushOutcome, queue: { readonly depth: number }): FlushReport {
  if (outcome.rejected && outcome.rejected.size > 0) {
    const [id, first] = outcome.rejected.entries().next().value as [string, Error]
    throw new FlushError(
      `${outcome.rejected.size} writes were refused by L3 (first ${JSON.stringify(id)}: ${first.message})`,
      { cause: first },
    )
  }
  if (outcome.failed.size > 0) {
    const first = outcome.failed.values().next().value as Error
    throw new FlushError(`${outcome.failed.size} writes could not be flushed: ${first.message}`, {
      cause: first,
    })
  }
  return { written: outcome.written, pending: queue.depth }
}
