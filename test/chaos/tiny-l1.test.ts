import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { l1EntryBytes, SyncEngine } from '@sync-engine/core/internal'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../support/temp-dir.ts'
import { checkFinalState, checkHistory } from './support/check-history.ts'
import { drain } from './support/drain.ts'
import { engineTarget } from './support/engine-target.ts'
import { readFinalState } from './support/final-state.ts'
import { History } from './support/history.ts'
import { startLoad } from './support/load.ts'
import { describeRun, describeViolations } from './support/report.ts'

const L1_MAX_BYTES = 4 * 1024

/**
 * A 4 KiB L1 under concurrent writes acknowledged at `queued` and concurrent reads (read your
 * writes, eviction): L1 can hold only a few items at once and some items not at all,
 * so reads keep falling through to the write queue and L3. Every read must see at least the
 * write acknowledged before it, and L1's byte accounting must stay exact and within its budget.
 */
describe('chaos: a tiny L1 under concurrent queued writes and reads', () => {
  const dir = makeTempDir('chaos-tiny-l1')
  afterAll(() => dir.remove())

  it('every acknowledged write is readable at its version; L1 bytes stay exact and under the budget', async () => {
    const path = join(dir.path, 'tiny.db')
    const engine = new SyncEngine({ l3: createSqliteStore({ path }), config: { l1MaxBytes: L1_MAX_BYTES } })
    await engine.start()
    const history = new History()
    const accounting: string[] = []
    let samples = 0
    const sample = async () => {
      // Both read synchronously, in the same tick: health() computes its L1 part before any await.
      const health = engine.health()
      const snapshot = engine.l1Snapshot()
      const sum = snapshot.entries.reduce((total, entry) => total + l1EntryBytes(entry), 0)
      const reported = (await health).l1.bytes
      samples++
      if (sum !== snapshot.bytes || reported !== snapshot.bytes || snapshot.bytes > L1_MAX_BYTES) {
        accounting.push(
          `sample ${samples}: entries sum to ${sum}, L1 says ${snapshot.bytes}, health says ${reported}, budget ${L1_MAX_BYTES}`,
        )
      }
    }
    const load = startLoad({
      target: engineTarget(engine, 'queued'),
      history,
      writers: 16,
      idsPerWriter: 8,
      readers: 4,
      readAfterWrite: true,
      // Up to 6 KiB: some items never fit L1 and are served from the queue or L3 only.
      contentBytes: { min: 100, max: 6_000 },
      thinkMs: 1,
      idPrefix: 'tiny-',
    })
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        await sample()
        await sleep(5)
      }
    })()
    try {
      await load.ackedMore(3_000, 'acknowledged writes on the tiny L1')
    } finally {
      sampling = false
      await sampler
      await load.stop()
    }
    await drain(engine)
    await sample()

    const ids = history.writtenIds()
    const violations = checkHistory(history.ops, await readFinalState(ids, engineTarget(engine).get))
    const health = await engine.health()
    await engine.shutdown()
    const fresh = new SyncEngine({ l3: createSqliteStore({ path }), config: { l1MaxBytes: L1_MAX_BYTES } })
    await fresh.start()
    let restarted: ReturnType<typeof checkFinalState>
    try {
      restarted = checkFinalState(history.ops, await readFinalState(ids, engineTarget(fresh).get))
    } finally {
      await fresh.shutdown()
    }

    console.log(
      `${describeRun('tiny-l1', history.summary())}; L1 ${health.l1.items} items, ${health.l1.bytes} bytes, ` +
        `${health.l1.evictions} evictions; ${samples} accounting samples`,
    )
    expect(history.summary().failedReads).toBe(0)
    // The premise: L1 really was too small and evicted.
    expect(health.l1.evictions).toBeGreaterThan(0)
    expect(accounting.slice(0, 5).join('\n') || 'exact').toBe('exact')
    expect(describeViolations(violations), `seed ${load.seed}`).toBe('no violations')
    expect(describeViolations(restarted), `fresh engine, seed ${load.seed}`).toBe('no violations')
  }, 60_000)
})
