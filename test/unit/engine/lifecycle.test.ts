import { join } from 'node:path'
import { ConfigError, type EngineState, EngineStateError, SyncEngine, SyncItem } from '@sync-engine/core'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'

const dir = makeTempDir('engine-lifecycle')
afterAll(() => dir.remove())
let files = 0
const newEngine = (config = {}) =>
  new SyncEngine({ l3: createSqliteStore({ path: join(dir.path, `e${files++}.db`) }), config })

describe('engine lifecycle', () => {
  it('walks created → connecting → draining-wal → warming → ready → stopping → stopped', async () => {
    const engine = newEngine()
    const seen: EngineState[] = []
    engine.onStateChange((state) => seen.push(state))
    expect(engine.state).toBe('created')
    await engine.start()
    await engine.shutdown()
    expect(seen).toEqual(['connecting', 'draining-wal', 'warming', 'ready', 'stopping', 'stopped'])
  })

  it('a second start() is the same start, not a second set of connections', async () => {
    const engine = newEngine()
    const first = engine.start()
    expect(engine.start()).toBe(first)
    await first
    await engine.start()
    expect(engine.state).toBe('ready')
    await engine.shutdown()
    await expect(engine.start()).rejects.toBeInstanceOf(EngineStateError)
  })

  it('operations before ready and after shutdown get a typed EngineStateError', async () => {
    const engine = newEngine()
    await expect(engine.get('a')).rejects.toBeInstanceOf(EngineStateError)
    await expect(engine.submit(SyncItem.fromJson('a', {}))).rejects.toBeInstanceOf(EngineStateError)
    await engine.start()
    await engine.shutdown()
    for (const call of [
      () => engine.get('a'),
      () => engine.getMany(['a']),
      () => engine.submit(SyncItem.fromJson('a', {})),
      () => engine.submitMany([SyncItem.fromJson('a', {})]),
      () => engine.delete('a'),
      () => engine.deleteMany(['a']),
      () => engine.status('a'),
      () => engine.flush(),
    ]) {
      const error = await call().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(EngineStateError)
      expect((error as EngineStateError).code).toBe('ENGINE_STATE')
    }
  })

  it('shutdown without start ends stopped; shutdown is idempotent', async () => {
    const engine = newEngine()
    await engine.shutdown()
    expect(engine.state).toBe('stopped')
    const started = newEngine()
    await started.start()
    const first = started.shutdown()
    expect(started.shutdown()).toBe(first)
    await first
    expect(started.state).toBe('stopped')
  })

  it('shutdown flushes writes that were only queued', async () => {
    const path = join(dir.path, 'flush-on-shutdown.db')
    const engine = new SyncEngine({ l3: createSqliteStore({ path }), config: { batchFlushMs: 60_000 } })
    await engine.start()
    await engine.submit(SyncItem.fromJson('queued', { n: 1 }), { ack: 'queued' })
    await engine.delete('never-written', { ack: 'queued' })
    expect((await engine.status('queued')).kind).toBe('pending')
    await engine.shutdown()
    const again = new SyncEngine({ l3: createSqliteStore({ path }) })
    await again.start()
    expect((await again.get('queued'))?.json()).toEqual({ n: 1 })
    expect((await again.status('queued')).kind).toBe('synced')
    await again.shutdown()
  })

  it('survives 20 rapid start/stop cycles on one file, keeping data and increasing versions', async () => {
    const path = join(dir.path, 'cycles.db')
    let last = 0
    for (let cycle = 0; cycle < 20; cycle++) {
      const engine = new SyncEngine({ l3: createSqliteStore({ path }) })
      await engine.start()
      const receipt = await engine.submit(SyncItem.fromJson('counter', { cycle }), { ack: 'queued' })
      expect(receipt.version).toBeGreaterThan(last)
      last = receipt.version
      await engine.shutdown()
    }
    const engine = new SyncEngine({ l3: createSqliteStore({ path }) })
    await engine.start()
    expect((await engine.get('counter'))?.json()).toEqual({ cycle: 19 })
    await engine.shutdown()
  })
})

describe('getOrInsertWith', () => {
  it('runs the factory once for concurrent callers and returns the stored item', async () => {
    const engine = newEngine()
    await engine.start()
    let calls = 0
    const factory = async () => {
      calls++
      await new Promise((resolve) => setTimeout(resolve, 5))
      return SyncItem.fromJson('lazy', { computed: true })
    }
    const results = await Promise.all(
      Array.from({ length: 10 }, () => engine.getOrInsertWith('lazy', factory)),
    )
    expect(calls).toBe(1)
    const versions = new Set(results.map((item) => item.version))
    expect(versions.size).toBe(1)
    expect([...versions][0]).toBeGreaterThan(0)
    expect(results.every((item) => item.text() === '{"computed":true}')).toBe(true)
    // Present now: the factory is not run again.
    await engine.getOrInsertWith('lazy', factory)
    expect(calls).toBe(1)
    await engine.shutdown()
  })

  it('rejects a factory item with another id, and lets a later caller retry after a factory error', async () => {
    const engine = newEngine()
    await engine.start()
    await expect(engine.getOrInsertWith('x', () => SyncItem.fromJson('y', {}))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
    await expect(
      engine.getOrInsertWith('x', () => {
        throw new Error('origin down')
      }),
    ).rejects.toThrow('origin down')
    expect((await engine.getOrInsertWith('x', () => SyncItem.fromJson('x', 1 as never))).text()).toBe('1')
    expect(await engine.get('y')).toBeUndefined()
    await engine.shutdown()
  })
})

describe('reconfigure', () => {
  it('applies live fields, reports restart-only fields without applying them, and rejects bad values', async () => {
    const engine = newEngine({ maxPayloadBytes: 1024 })
    await engine.start()
    await expect(engine.submit(SyncItem.fromBinary('big', new Uint8Array(2048)))).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    })
    const result = engine.reconfigure({ maxPayloadBytes: 4096, port: 9999, l1MaxBytes: 1_000_000 })
    expect([...result.applied].sort()).toEqual(['l1MaxBytes', 'maxPayloadBytes'])
    expect(result.requiresRestart).toEqual(['port'])
    expect(engine.config.port).toBe(8787)
    expect(engine.config.maxPayloadBytes).toBe(4096)
    expect((await engine.health()).l1.maxBytes).toBe(1_000_000)
    await engine.submit(SyncItem.fromBinary('big', new Uint8Array(2048)))
    expect((await engine.get('big'))?.content.length).toBe(2048)
    const error = (() => {
      try {
        engine.reconfigure({ batchFlushCount: -1 })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).fields).toContain('batchFlushCount')
    expect(engine.config.batchFlushCount).toBe(1000)
    await engine.shutdown()
  })
})
