import { BackendError, RedisStore, type StoredRecord, sha256Hex } from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CountingTransport } from '../conformance/l2-counting-transport.ts'
import { freePort, hasRedisServer, OwnRedisServer, until } from './own-redis-server.ts'
import { redisReachable } from './redis-reachable.ts'

const available = hasRedisServer()
if (!available) {
  const message = 'redis-server is not installed: the outage tests need their own server'
  if (process.env.CI === 'true') throw new Error(message)
  console.warn(`\n⚠ SKIPPED ioredis outage tests: ${message}\n`)
}

describe.skipIf(!available)('ioredis transport through a Redis outage (own redis-server)', () => {
  let server: OwnRedisServer
  const transports: IoredisTransport[] = []

  const connect = async (options: { maxOfflineCalls?: number } = {}) => {
    const transport = await IoredisTransport.create({
      url: server.url,
      commandTimeoutMs: 500,
      connectTimeoutMs: 500,
      maxReconnectDelayMs: 100,
      ...options,
    })
    transports.push(transport)
    return transport
  }

  beforeAll(async () => {
    server = new OwnRedisServer(await freePort())
    await server.start()
  })

  afterEach(async () => {
    await Promise.allSettled(transports.splice(0).map((transport) => transport.close()))
    // Every test leaves the server running for the next one.
    if (!(await until(() => redisReachable(server.url), 1))) await server.start()
  })

  afterAll(async () => {
    await server?.kill()
  })

  it('fails with a typed BackendError while the server is down, and works again after a restart', async () => {
    const counting = new CountingTransport(await connect())
    const store = await RedisStore.open(counting, { prefix: 'outage:' })
    expect((await store.write([{ record: record('a', 1) }])).applied).toBe(1)

    await server.kill()
    // No timing assertion: the deadline (commandTimeout) bounds each call, the test timeout a hang.
    await expect(store.read(['a'])).rejects.toBeInstanceOf(BackendError)
    await expect(store.write([{ record: record('a', 2) }])).rejects.toBeInstanceOf(BackendError)
    await expect(store.ping()).rejects.toBeInstanceOf(BackendError)

    await server.start()
    expect(
      await until(() =>
        store.ping().then(
          () => true,
          () => false,
        ),
      ),
    ).toBe(true)
    // The restarted server has an empty script cache: the write falls back from EVALSHA to EVAL.
    counting.reset()
    expect(await store.write([{ record: record('a', 3) }])).toEqual({ applied: 1, stale: [] })
    expect(counting.calls).toBe(2)
    const read = (await store.read(['a'])).get('a') as StoredRecord
    expect(read.version).toBe(3)
  })

  it('rejects at once, beyond a small offline queue, while disconnected', async () => {
    const transport = await connect({ maxOfflineCalls: 2 })
    await server.kill()
    expect(await until(() => transport.status !== 'ready')).toBe(true)
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => transport.send(['PING'])))
    for (const result of results) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(BackendError)
    }
    const immediate = results.filter((r) =>
      String((r as PromiseRejectedResult).reason.message).includes('not connected'),
    )
    expect(immediate.length).toBeGreaterThanOrEqual(8)
  })

  it('falls back to EVAL when the script cache is flushed', async () => {
    const counting = new CountingTransport(await connect())
    const store = await RedisStore.open(counting, { prefix: 'noscript:' })
    // Both guard scripts known to the store (one key, and a batch of keys), then forgotten by Redis.
    await store.write([{ record: record('s', 1) }])
    await store.write([{ record: record('s', 2) }, { record: record('t', 1) }])
    await counting.send(['SCRIPT', 'FLUSH'])
    counting.reset()
    expect(await store.write([{ record: record('s', 3) }, { record: record('t', 2) }])).toEqual({
      applied: 2,
      stale: [],
      replacedLive: ['s', 't'],
    })
    expect(await store.write([{ record: record('u', 1) }])).toEqual({ applied: 1, stale: [] })
    // Each write: EVALSHA → NOSCRIPT → EVAL, two round trips.
    expect(counting.calls).toBe(4)
    expect(counting.names.filter((name) => name === 'EVAL')).toHaveLength(2)
  })

  it('does not put the password in the error when it cannot connect', async () => {
    const closed = await freePort()
    const error = await IoredisTransport.create({
      url: `redis://user:s3cret-pw@127.0.0.1:${closed}`,
      connectTimeoutMs: 500,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BackendError)
    expect(String((error as Error).message)).not.toContain('s3cret-pw')
    expect(String((error as Error).stack)).not.toContain('s3cret-pw')
  })

  it('after close, fails at once with BackendError; close is idempotent', async () => {
    const transport = await connect()
    await transport.close()
    await transport.close()
    await expect(transport.send(['PING'])).rejects.toBeInstanceOf(BackendError)
    await expect(transport.pipeline([['PING']])).rejects.toBeInstanceOf(BackendError)
  })
})

function record(id: string, version: number): StoredRecord {
  const content = Uint8Array.of(version, 0, 0xff)
  return {
    id,
    version,
    updatedAt: 1_700_000_000_000,
    hash: sha256Hex(content),
    state: 'default',
    contentType: 'binary',
    mime: 'application/octet-stream',
    content,
    tombstone: false,
  }
}
