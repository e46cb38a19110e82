import { BackpressureError, SyncEngine, SyncItem } from '@sync-engine/core'
import { createApp } from '@sync-engine/http'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import { FlakyL3 } from '../../support/flaky-l3.ts'
import { makeTempDir } from '../../support/temp-dir.ts'

const dirs: { remove: () => void }[] = []
const engines: SyncEngine[] = []

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.shutdown().catch(() => {})
  for (const dir of dirs.splice(0)) dir.remove()
})

/** An engine whose L3 refuses every flush and that has no log: queued bytes can only grow. */
async function stuckEngine() {
  const dir = makeTempDir('engine-backpressure')
  dirs.push(dir)
  const l3 = new FlakyL3(createSqliteStore({ path: `${dir.path}/sync.db` }))
  const engine = new SyncEngine({
    l3,
    config: { queueMaxBytes: 40_000, l1MaxBytes: 120_000, batchFlushMs: 20 },
  })
  engines.push(engine)
  await engine.start()
  return { engine, l3 }
}

const payload = 'x'.repeat(900)
const item = (id: string) => SyncItem.fromJson(id, { id, payload })

/** Submits queued writes until backpressure refuses one; returns the receipts of the accepted ones. */
async function fillUntilRefused(engine: SyncEngine) {
  const accepted: { id: string; version: number }[] = []
  for (let n = 0; n < 1_000; n++) {
    try {
      accepted.push(await engine.submit(item(`w-${n}`), { ack: 'queued' }))
    } catch (error) {
      return { accepted, error }
    }
  }
  throw new Error('backpressure never refused a write')
}

describe('backpressure through the engine', () => {
  it('slows writes, then refuses them with BackpressureError at emergency; reads keep working', async () => {
    const { engine, l3 } = await stuckEngine()
    l3.failWrites = Number.MAX_SAFE_INTEGER
    const { accepted, error } = await fillUntilRefused(engine)
    expect(error).toBeInstanceOf(BackpressureError)
    expect((error as BackpressureError).code).toBe('BACKPRESSURE')
    expect((error as BackpressureError).level).toBe('emergency')
    const health = await engine.health()
    expect(health.backpressure.level).toBe('emergency')
    expect(health.backpressure.driver).toBe('queue')
    // Throttle came first: some writes were delayed before any was refused.
    expect(health.backpressure.delayed).toBeGreaterThan(0)
    expect(health.backpressure.refused).toBeGreaterThan(0)
    // Every accepted write is still readable (from the queue), and a delete is refused too.
    const read = await engine.getMany(accepted.map((receipt) => receipt.id))
    expect(read.map((found) => found?.version)).toEqual(accepted.map((receipt) => receipt.version))
    await expect(engine.delete('w-0')).rejects.toBeInstanceOf(BackpressureError)

    // L3 returns: the queue drains, the level falls, and writes are accepted again.
    l3.failWrites = 0
    await engine.flush()
    await engine.submit(item('after'), { ack: 'stored' })
    expect((await engine.health()).backpressure.level).toBe('normal')
    expect((await engine.get('after'))?.json()).toEqual({ id: 'after', payload })
  })

  it('evicts L1 down once the queue fills past warn', async () => {
    const { engine, l3 } = await stuckEngine()
    // Fill L1 with stored items, admitted by reading them.
    const warm = Array.from({ length: 100 }, (_, n) => item(`warm-${n}`))
    await engine.submitMany(warm, { ack: 'stored' })
    await engine.getMany(warm.map((w) => w.id))
    const before = await engine.health()
    expect(before.l1.items).toBe(100)
    l3.failWrites = Number.MAX_SAFE_INTEGER
    await fillUntilRefused(engine)
    const after = await engine.health()
    expect(after.l1.evictions).toBeGreaterThan(before.l1.evictions)
    expect(after.l1.bytes).toBeLessThan(before.l1.bytes)
  })

  it('answers 503 with Retry-After and the backpressure problem type over HTTP', async () => {
    const { engine, l3 } = await stuckEngine()
    l3.failWrites = Number.MAX_SAFE_INTEGER
    await fillUntilRefused(engine)
    const app = createApp({ engine, config: engine.config })
    const res = await app.request('/v1/items/refused?ack=queued', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payload }),
    })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('1')
    expect(((await res.json()) as { code: string }).code).toBe('BACKPRESSURE')
    expect((await app.request('/v1/items/w-0')).status).toBe(200)
  })
})
