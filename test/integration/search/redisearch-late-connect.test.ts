import { randomBytes } from 'node:crypto'
import {
  BackendError,
  type RedisCapabilities,
  type RedisCommand,
  RedisStore,
  type RedisTransport,
  SyncEngine,
} from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { deleteRedisPrefix } from '../support/redis-cleanup.ts'
import { describeWithRedis, redisUrl } from '../support/services.ts'

/** The real Redis behind a switch: while `down`, every call fails as an unreachable server's would. */
class SwitchedTransport implements RedisTransport {
  readonly driver = 'switched'
  down = true

  constructor(private readonly inner: IoredisTransport) {}

  #check(): void {
    if (this.down) throw new BackendError('l2', 'injected outage: unreachable')
  }
  async send(command: RedisCommand) {
    this.#check()
    return this.inner.send(command)
  }
  async pipeline(commands: readonly RedisCommand[]) {
    this.#check()
    return this.inner.pipeline(commands)
  }
  async transaction(commands: readonly RedisCommand[]) {
    this.#check()
    return this.inner.transaction(commands)
  }
  async detectCapabilities() {
    this.#check()
    return this.inner.detectCapabilities()
  }
  async close() {}
}

/**
 * searchBackend "redis" with Redis unreachable at start: the engine starts degraded and opens
 * search on Redis when Redis connects (it used to refuse searches until a restart). The local Redis
 * has no query engine, so the capabilities are stated: with them, the definitions are read from
 * Redis; without, searches are refused with what is missing while L2 serves everything else.
 */
describeWithRedis('searchBackend "redis" when Redis connects after start', () => {
  let inner: IoredisTransport
  const prefixes: string[] = []

  beforeAll(async () => {
    inner = await IoredisTransport.create(redisUrl())
  })

  afterAll(async () => {
    for (const prefix of prefixes) await deleteRedisPrefix(prefix)
    await inner?.close()
  })

  async function startDegraded(capabilities: Partial<RedisCapabilities>) {
    const prefix = `rl:${randomBytes(4).toString('hex')}:`
    prefixes.push(prefix)
    const transport = new SwitchedTransport(inner)
    const store = new RedisStore(transport, { prefix, shards: 2, searchProjections: true, capabilities })
    const engine = new SyncEngine({
      l2: store,
      config: { searchBackend: 'redis' },
      breakers: { l2: { failureThreshold: 1, openMs: 1, maxOpenMs: 1 } },
      maintenance: 'manual',
    })
    await engine.start()
    return { engine, transport }
  }

  /** Maintenance runs until L2 is connected (its breaker opened at start and lets a probe through soon). */
  async function connect(engine: SyncEngine): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      await engine.runMaintenance()
      if ((await engine.health()).degraded.length === 0) return
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    throw new Error('L2 never connected')
  }

  it('refuses searches as an outage until Redis connects, then opens them', async () => {
    const { engine, transport } = await startDegraded({ search: true, json: true })
    try {
      expect(() => engine.listIndexes()).toThrow(BackendError)
      transport.down = false
      await connect(engine)
      expect(engine.listIndexes()).toEqual([])
    } finally {
      await engine.shutdown()
    }
  })

  it('refuses searches with what is missing when the Redis that connects has no query engine', async () => {
    const { engine, transport } = await startDegraded({ search: false, json: false })
    try {
      transport.down = false
      await connect(engine)
      expect(() => engine.listIndexes()).toThrow(expect.objectContaining({ code: 'NO_TIER' }))
      expect(() => engine.listIndexes()).toThrow(/query engine/)
    } finally {
      await engine.shutdown()
    }
  })
})
