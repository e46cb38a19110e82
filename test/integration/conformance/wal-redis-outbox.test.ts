import { randomBytes } from 'node:crypto'
import {
  escapeGlob,
  memoryWalEntryBytes,
  OutboxShardLog,
  RedisStore,
  type RedisTransport,
  type WriteAheadLog,
} from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { UpstashTransport } from '@sync-engine/redis-upstash'
import { afterAll, beforeAll } from 'vitest'
import { startUpstashRestServer, type UpstashRestServer } from '../../support/upstash-rest-server.ts'
import { describeWithRedis, redisUrl } from '../support/services.ts'
import { deleteMatching } from './l2-records.ts'
import { walConformance } from './wal-conformance.ts'

/**
 * The log conformance suite on one shard of the Redis outbox, over ioredis and over Upstash REST
 * (through the loopback server): the shard is the write-ahead log a flusher drains. Each log gets
 * a key prefix of its own; reopening is a new shard log over the same keys, as the next process
 * would open it.
 */
function outboxConformance(name: string, transport: () => Promise<RedisTransport>): void {
  const root = `test:outbox:${randomBytes(4).toString('hex')}:`
  let cleaner: RedisTransport
  let count = 0
  const stores = new Map<WriteAheadLog, RedisStore>()

  beforeAll(async () => {
    cleaner = await IoredisTransport.create({ url: redisUrl() })
  })

  afterAll(async () => {
    await deleteMatching(cleaner, `${escapeGlob(root)}*`)
    await Promise.allSettled([...new Set(stores.values())].map((store) => store.close()))
    await cleaner?.close()
  })

  const openLog = async (store: RedisStore, maxBytes: number) => {
    const log = new OutboxShardLog(store, 0, maxBytes)
    await log.open()
    stores.set(log, store)
    return log
  }

  walConformance(name, {
    create: async (maxBytes) => {
      const store = new RedisStore(await transport(), { prefix: `${root}${count++}:`, shards: 1 })
      return openLog(store, maxBytes)
    },
    entryBytes: memoryWalEntryBytes,
    reopen: async (log) => {
      await log.close()
      return openLog(stores.get(log)!, (log as OutboxShardLog).maxBytes)
    },
  })
}

describeWithRedis('Redis outbox shard as a write-ahead log', () => {
  outboxConformance('Redis outbox shard over ioredis', () => IoredisTransport.create({ url: redisUrl() }))

  const token = `tok-${randomBytes(12).toString('hex')}`
  let server: UpstashRestServer
  beforeAll(async () => {
    server = await startUpstashRestServer({ redisUrl: redisUrl(), token })
  })
  afterAll(async () => {
    await server?.close()
  })
  outboxConformance('Redis outbox shard over Upstash REST', () =>
    UpstashTransport.create({ url: server.url, token }),
  )
})
