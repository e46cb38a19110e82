import { join } from 'node:path'
import { EngineStateError, SyncEngine, SyncItem } from '@sync-engine/core'
import { openRedisStore } from '@sync-engine/redis-ioredis'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { makeTempDir } from '../support/temp-dir.ts'
import { describeWithBinaries } from './support/binaries.ts'
import { grownSince, type HandleCounts, handleCounts } from './support/handle-counts.ts'
import { OwnRedis } from './support/own-redis.ts'
import { waitFor } from './support/wait.ts'

const CYCLES = 20

/**
 * Lifecycle edge cases on real tiers: a private redis-server (L2) and a
 * SQLite file (L3). Connections are counted on both sides: handles in this process
 * (`getActiveResourcesInfo`) and clients on the server (`CLIENT LIST`).
 */
describeWithBinaries('chaos: engine lifecycle on real Redis and SQLite', ['redis-server'], () => {
  const dir = makeTempDir('chaos-lifecycle')
  let redis: OwnRedis | undefined
  const engines: SyncEngine[] = []
  const stores: { close(): Promise<void> }[] = []
  let files = 0

  beforeAll(async () => {
    redis = await OwnRedis.start()
  })

  afterEach(async () => {
    await Promise.allSettled(engines.splice(0).map((engine) => engine.shutdown()))
    // Closing twice is harmless; this only matters where an engine did not close its store.
    await Promise.allSettled(stores.splice(0).map((store) => store.close()))
  })

  afterAll(async () => {
    try {
      await redis?.dispose()
    } finally {
      dir.remove()
    }
  })

  /** An engine (not started) on the private Redis and a SQLite file; `file` reuses one. */
  const build = async (file = `e${++files}.db`) => {
    const l2 = await openRedisStore({ url: redis!.url, commandTimeoutMs: 1_000 }, { prefix: 'life:' })
    stores.push(l2)
    const engine = new SyncEngine({
      l2,
      l3: createSqliteStore({ path: join(dir.path, file) }),
      config: { redisPrefix: 'life:' },
    })
    engines.push(engine)
    return engine
  }

  /** Until the server's client count is back at `expected` (the server sees a close a moment later). */
  const clientsBackTo = async (expected: number) => {
    let count = -1
    await waitFor(
      `redis-server clients back to ${expected}`,
      async () => {
        count = await redis!.clientCount()
        return count === expected
      },
      40,
    ).catch(() => {})
    return count
  }

  /** Until no watched handle kind is above `baseline`; returns what still grew ('' when nothing). */
  const handlesBackTo = async (baseline: HandleCounts) => {
    await waitFor('handles back to the baseline', () => grownSince(baseline) === '', 40).catch(() => {})
    return grownSince(baseline)
  }

  it('a second start() is the same start: one promise, no second set of connections', async () => {
    const baseline = await redis!.clientCount()
    const engine = await build()
    const withStore = await redis!.clientCount()
    const first = engine.start()
    const second = engine.start()
    expect(second).toBe(first)
    await Promise.all([first, second])
    await engine.start()
    expect(engine.state).toBe('ready')
    expect(await redis!.clientCount(), 'redis-server clients after three start() calls').toBe(withStore)
    await engine.shutdown()
    expect(await clientsBackTo(baseline), 'redis-server clients after the shutdown').toBe(baseline)
  }, 15_000)

  it('shutdown without start ends stopped and closes the connections it was handed', async () => {
    const baseline = await redis!.clientCount()
    const engine = await build()
    await engine.shutdown()
    expect(engine.state).toBe('stopped')
    await expect(engine.start()).rejects.toBeInstanceOf(EngineStateError)
    expect(await clientsBackTo(baseline), 'redis-server clients after a shutdown without start').toBe(
      baseline,
    )
  }, 15_000)

  it('every operation after shutdown — and while it runs — is a typed EngineStateError', async () => {
    const engine = await build('after-shutdown.db')
    await engine.start()
    await engine.submit(SyncItem.fromJson('kept', { n: 1 }), { ack: 'queued' })
    // A submit issued the moment the engine is stopping (from the state listener, synchronously).
    let during: Promise<unknown> | undefined
    engine.onStateChange((state) => {
      if (state === 'stopping')
        during = engine.submit(SyncItem.fromJson('late', { n: 2 })).catch((e: unknown) => e)
    })
    await engine.shutdown()
    expect(await during).toBeInstanceOf(EngineStateError)
    expect(engine.state).toBe('stopped')

    const calls: Record<string, () => Promise<unknown>> = {
      start: () => engine.start(),
      get: () => engine.get('kept'),
      getMany: () => engine.getMany(['kept']),
      contains: () => engine.contains('kept'),
      status: () => engine.status('kept'),
      submit: () => engine.submit(SyncItem.fromJson('a', {})),
      submitMany: () => engine.submitMany([SyncItem.fromJson('a', {})]),
      delete: () => engine.delete('kept'),
      deleteMany: () => engine.deleteMany(['kept']),
      flush: () => engine.flush(),
      getOrInsertWith: () => engine.getOrInsertWith('b', () => SyncItem.fromJson('b', {})),
    }
    const outcomes: Record<string, string> = {}
    for (const [name, call] of Object.entries(calls)) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      )
      outcomes[name] =
        error instanceof EngineStateError ? error.code : `not an EngineStateError: ${String(error)}`
    }
    expect(outcomes).toEqual(Object.fromEntries(Object.keys(calls).map((name) => [name, 'ENGINE_STATE'])))
    // Health still answers, and says why nothing else does.
    expect((await engine.health()).state).toBe('stopped')

    // The write queued before the shutdown was flushed by it.
    const again = await build('after-shutdown.db')
    await again.start()
    expect((await again.get('kept'))?.json()).toEqual({ n: 1 })
  }, 15_000)

  it(`${CYCLES} rapid start/stop cycles leak no socket, timer or server connection`, async () => {
    const cycle = async (file: string) => {
      const engine = await build(file)
      await engine.start()
      await engine.submit(SyncItem.fromJson(`cycle-${file}`, { file }), { ack: 'stored' })
      expect((await engine.get(`cycle-${file}`))?.json()).toEqual({ file })
      await engine.shutdown()
      engines.splice(engines.indexOf(engine), 1)
    }
    // One cycle first: module-level state (pools, lazy imports) is not a leak.
    await cycle('warm-up.db')
    const clients = await clientsBackTo(0)
    const baseline = handleCounts()
    for (let i = 0; i < CYCLES; i++) await cycle('cycles.db')
    expect(await handlesBackTo(baseline), JSON.stringify(process.getActiveResourcesInfo())).toBe('')
    expect(await clientsBackTo(clients), 'redis-server clients after the cycles').toBe(clients)
  }, 60_000)

  it('shutdown racing an unfinished start() leaves nothing open', async () => {
    const clients = await clientsBackTo(0)
    const baseline = handleCounts()
    for (let i = 0; i < 5; i++) {
      const engine = await build('race.db')
      const started = engine.start().catch((error: unknown) => error)
      await engine.shutdown()
      const outcome = await started
      // Either the start won and the shutdown followed it, or the start was refused with a typed error.
      expect(outcome === undefined || outcome instanceof EngineStateError, String(outcome)).toBe(true)
      expect(engine.state).toBe('stopped')
    }
    expect(await handlesBackTo(baseline), JSON.stringify(process.getActiveResourcesInfo())).toBe('')
    expect(await clientsBackTo(clients), 'redis-server clients after the races').toBe(clients)
  }, 30_000)
})
