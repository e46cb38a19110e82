import { randomBytes } from 'node:crypto'
import { type L3Store, RedisStore, SyncItem } from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import {
  jsonLogger,
  type ServerlessDrivers,
  serverlessSettings,
  startOutboxFlusher,
  startServerlessApp,
} from '@sync-engine/serverless'
import { createMysqlStore } from '@sync-engine/sql-mysql2'
import { afterAll, expect, it } from 'vitest'
import { FlakyL3 } from '../../support/flaky-l3.ts'
import { deleteRedisPrefix } from '../support/redis-cleanup.ts'
import { describeWithMysql, describeWithRedis, mysqlTables, mysqlUrl, redisUrl } from '../support/services.ts'

const TOKEN = `sapp-${randomBytes(12).toString('hex')}`
const prefix = `test:sapp:${randomBytes(4).toString('hex')}:`
const tables = mysqlTables()

describeWithRedis('the serverless app', () => {
  describeWithMysql('over ioredis and MariaDB', () => {
    const transports: IoredisTransport[] = []
    const stores: L3Store[] = []
    afterAll(async () => {
      await deleteRedisPrefix(prefix)
      await Promise.allSettled(transports.map((transport) => transport.close()))
      await Promise.allSettled(stores.map((store) => store.close()))
      await tables.dropAll()
    })

    it('the flusher also purges: an expired row becomes a tombstone (API instances purge nothing)', async () => {
      const table = tables.next()
      const sql = createMysqlStore({ url: mysqlUrl(), table })
      stores.push(sql)
      await sql.init()
      const item = SyncItem.fromJson('expired', 1).withVersion(1_700_000_000_000_001, 1_700_000_000_000)
      await sql.write([{ ...item, tombstone: false, expiresAt: Date.now() - 1_000 }])
      const drivers: ServerlessDrivers = {
        async redis(_settings, options) {
          const transport = await IoredisTransport.create({ url: redisUrl() })
          transports.push(transport)
          return new RedisStore(transport, options)
        },
        sql: async () => createMysqlStore({ url: mysqlUrl(), table }),
      }
      const settings = serverlessSettings(
        {
          SYNC_REDIS_URL: redisUrl(),
          SYNC_SQL_URL: mysqlUrl(),
          SYNC_SQL_TABLE: table,
          SYNC_REDIS_PREFIX: prefix,
        },
        'lambda',
        'flusher',
      )
      const flusher = await startOutboxFlusher(settings, drivers, jsonLogger('silent'))
      expect(await flusher.run(() => 60_000)).toMatchObject({ failed: 0, left: 0 })
      expect((await sql.read(['expired'])).get('expired')).toMatchObject({
        tombstone: true,
        version: item.version,
      })
    })

    it('an instance that started while SQL was unreachable connects it at a later request (no timer does)', async () => {
      let flaky: FlakyL3 | undefined
      const drivers: ServerlessDrivers = {
        async redis(_settings, options) {
          const transport = await IoredisTransport.create({ url: redisUrl() })
          transports.push(transport)
          return new RedisStore(transport, options)
        },
        async sql(_settings, table) {
          flaky = new FlakyL3(createMysqlStore({ url: mysqlUrl(), table }))
          flaky.down = true
          return flaky
        },
      }
      const settings = serverlessSettings(
        {
          SYNC_REDIS_URL: redisUrl(),
          SYNC_SQL_URL: mysqlUrl(),
          SYNC_SQL_TABLE: tables.next(),
          SYNC_REDIS_PREFIX: prefix,
          SYNC_API_TOKENS: TOKEN,
        },
        'lambda',
      )
      const { engine, app } = await startServerlessApp(settings, drivers, jsonLogger('silent'))
      try {
        const put = (id: string, query = '') =>
          app.fetch(
            new Request(`http://lambda.test/v1/items/${id}${query}`, {
              method: 'PUT',
              headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
              body: '{"a":1}',
            }),
          )
        // SQL down: a logged write is still acknowledged (L2 and the outbox), a stored one is not.
        expect((await put('logged')).status).toBe(200)
        expect((await put('stored', '?ack=stored')).status).toBe(503)
        flaky!.down = false
        const stored = await put('stored-later', '?ack=stored')
        expect(stored.status, await stored.clone().text()).toBe(200)
        expect(((await stored.json()) as { ack: string }).ack).toBe('stored')
      } finally {
        await engine.shutdown()
      }
    })
  })
})
