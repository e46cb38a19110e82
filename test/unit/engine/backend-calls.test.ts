import { join } from 'node:path'
import { SyncEngine, SyncItem } from '@sync-engine/core'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { driveUntilSettled, FakePlatform } from '../../support/fake-platform.ts'
import { FlakyL3 } from '../../support/flaky-l3.ts'
import { makeTempDir } from '../../support/temp-dir.ts'

/**
 * Every call the engine makes to a tier goes through that tier's breaker, is asked only for what
 * it needs, and is not repeated needlessly: health checks are cached, existence checks read no
 * content, deletes say whether they found the item.
 */

const dir = makeTempDir('backend-calls')
afterAll(() => dir.remove())
let files = 0
const open: SyncEngine[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((engine) => engine.shutdown()))
})

/** An L3 that counts what it is asked (by method). */
class CountingL3 extends FlakyL3 {
  readonly counts = { read: 0, head: 0, ping: 0, scanIds: 0, maxVersion: 0 }
  override async read(ids: readonly string[]) {
    this.counts.read++
    return super.read(ids)
  }
  override async head(ids: readonly string[]) {
    this.counts.head++
    return super.head(ids)
  }
  override async ping() {
    this.counts.ping++
    return super.ping()
  }
  override scanIds(options: Parameters<FlakyL3['scanIds']>[0]) {
    this.counts.scanIds++
    return super.scanIds(options)
  }
  override async maxVersion() {
    this.counts.maxVersion++
    return super.maxVersion()
  }
}

async function engineWith(config = {}, platform = new FakePlatform()) {
  const l3 = new CountingL3(createSqliteStore({ path: join(dir.path, `calls-${++files}.db`) }))
  const engine = new SyncEngine({ l3, config, platform, breakers: { l3: { failureThreshold: 1 } } })
  open.push(engine)
  await driveUntilSettled(platform, engine.start())
  return { engine, l3, platform }
}

describe('health checks', () => {
  it('ping a backend at most once per second, however often /ready is polled', async () => {
    const { engine, l3, platform } = await engineWith()
    const reports = await Promise.all(Array.from({ length: 5 }, () => engine.health()))
    for (let i = 0; i < 5; i++) reports.push(await engine.health())
    expect(reports.every((report) => report.l3.ok)).toBe(true)
    expect(l3.counts.ping).toBe(1)
    platform.advance(1_000)
    await engine.health()
    expect(l3.counts.ping).toBe(2)
  })

  it('do not ping a backend whose circuit is open: the breaker answers', async () => {
    const { engine, l3, platform } = await engineWith()
    l3.down = true
    // One failed read opens the circuit (threshold 1 here).
    await expect(engine.get('anything')).rejects.toMatchObject({ code: 'BACKEND_ERROR' })
    platform.advance(1_000)
    const pings = l3.counts.ping
    const report = await engine.health()
    expect(report.l3.ok).toBe(false)
    expect(report.breakers.l3.state).toBe('open')
    expect(l3.counts.ping).toBe(pings)
  })

  it('count every call of the start through the breaker: init, the clock seed and the filter scan', async () => {
    const { engine, l3 } = await engineWith({ l3SingleWriter: true })
    const { calls } = (await engine.health()).breakers.l3
    expect(l3.counts.maxVersion).toBe(1)
    expect(l3.counts.scanIds).toBeGreaterThanOrEqual(1)
    // init + maxVersion + every scan page, each admitted by the breaker.
    expect(calls).toBe(1 + l3.counts.maxVersion + l3.counts.scanIds)
  })
})

describe('a trusted existence filter', () => {
  it('answers an absent id without a backend call, and is asked (and counted) once per get', async () => {
    const { engine, l3 } = await engineWith({ l3SingleWriter: true, l1MaxBytes: 1 })
    await engine.submit(SyncItem.fromJson('here', { n: 1 }), { ack: 'stored' })
    const reads = l3.counts.read
    const before = (await engine.health()).filter.checks
    for (let n = 0; n < 3; n++) expect(await engine.get(`absent-${n}`)).toBeUndefined()
    expect(l3.counts.read).toBe(reads)
    expect((await engine.health()).filter.checks).toBe(before + 3)
    // A "maybe" goes on to L3 (L1 holds nothing: 1 byte), still one check.
    expect((await engine.get('here'))?.json()).toEqual({ n: 1 })
    expect(l3.counts.read).toBe(reads + 1)
    expect((await engine.health()).filter.checks).toBe(before + 4)
  })
})

describe('existence', () => {
  it('contains and status ask L3 for the head of the row, not its content', async () => {
    const { engine, l3 } = await engineWith({ l1MaxBytes: 1 })
    await engine.submit(SyncItem.fromBinary('big', new Uint8Array(100_000)))
    const reads = l3.counts.read
    expect(await engine.contains('big')).toBe(true)
    expect(await engine.contains('never')).toBe(false)
    expect((await engine.status('big')).kind).toBe('synced')
    expect(l3.counts.read).toBe(reads)
    expect(l3.counts.head).toBe(3)
  })

  it('a delete says whether it found a live item — stored, from memory, or from L3 itself', async () => {
    const file = join(dir.path, `existed-${++files}.db`)
    const engine = new SyncEngine({ l3: createSqliteStore({ path: file }), config: { l1MaxBytes: 1 } })
    open.push(engine)
    await engine.start()
    await engine.submit(SyncItem.fromJson('here', 1))
    // L1 holds nothing (1-byte budget): only L3's transaction can tell.
    expect((await engine.delete('here')).existed).toBe(true)
    expect((await engine.delete('here')).existed).toBe(false)
    expect((await engine.delete('never-written')).existed).toBe(false)
    // Pending in memory: known without asking L3, whatever the ack.
    await engine.submit(SyncItem.fromJson('queued', 1), { ack: 'queued' })
    expect((await engine.delete('queued', { ack: 'queued' })).existed).toBe(true)
    const results = await engine.deleteMany(['queued', 'none'])
    expect(results.map((result) => result.ok && result.value.existed)).toEqual([false, false])
  })

  it('a put receipt says it created the item when the engine knows without asking a tier', async () => {
    const { engine } = await engineWith()
    await engine.submit(SyncItem.fromJson('p', 1), { ack: 'queued' })
    expect((await engine.submit(SyncItem.fromJson('p', 2), { ack: 'queued' })).created).toBe(false)
    await engine.delete('p', { ack: 'queued' })
    expect((await engine.submit(SyncItem.fromJson('p', 3), { ack: 'queued' })).created).toBe(true)
  })
})
