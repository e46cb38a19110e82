import { randomBytes } from 'node:crypto'
import { createConnection } from 'mysql2/promise'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { deleteRedisPrefix } from '../integration/support/redis-cleanup.ts'
import {
  describeWithMysql,
  describeWithRedis,
  mysqlTables,
  mysqlUrl,
  redisUrl,
} from '../integration/support/services.ts'
import { type PlanetScaleHttpServer, startPlanetScaleHttpServer } from '../support/planetscale-http-server.ts'
import { startUpstashRestServer, type UpstashRestServer } from '../support/upstash-rest-server.ts'
import { workerTarget } from './contract-targets.ts'
import { httpContract } from './http-contract.ts'

/**
 * The Worker bundle in real workerd (Miniflare) over Upstash REST and PlanetScale HTTP, both
 * reached through the loopback servers that speak those protocols over the local Redis and
 * MariaDB; then its cron trigger, the outbox flusher, and its refusal of socket URLs.
 */
const TOKEN = `worker-${randomBytes(12).toString('hex')}`
const REST_TOKEN = `rest-${randomBytes(12).toString('hex')}`
const prefix = `test:cwrk:${randomBytes(4).toString('hex')}:`
const tables = mysqlTables()
const table = tables.next()

describeWithRedis('Cloudflare Worker', () => {
  describeWithMysql('over Upstash and PlanetScale', () => {
    let upstash: UpstashRestServer
    let planetscale: PlanetScaleHttpServer
    const bindings = () => ({
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: REST_TOKEN,
      PLANETSCALE_URL: planetscale.url,
      SYNC_SQL_TABLE: table,
      SYNC_REDIS_PREFIX: prefix,
      SYNC_LOG_LEVEL: 'warn',
    })

    beforeAll(async () => {
      upstash = await startUpstashRestServer({ redisUrl: redisUrl(), token: REST_TOKEN })
      planetscale = await startPlanetScaleHttpServer({
        mysqlUrl: mysqlUrl(),
        database: new URL(mysqlUrl()).pathname.slice(1) || 'test',
        username: 'worker',
        password: `pw-${randomBytes(6).toString('hex')}`,
      })
    })
    afterAll(async () => {
      await deleteRedisPrefix(prefix)
      await tables.dropAll()
      await upstash?.close()
      await planetscale?.close()
    })

    httpContract('Worker in workerd (Miniflare)', () => workerTarget(TOKEN, bindings()))

    it('its scheduled handler is the outbox flusher: a logged write reaches SQL at its receipt version', async () => {
      const worker = await workerTarget(TOKEN, bindings())
      try {
        const put = await worker.send({
          method: 'PUT',
          path: '/v1/items/cron%3A1',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: '{"via":"worker"}',
        })
        const receipt = JSON.parse(new TextDecoder().decode(put.body)) as { version: number; ack: string }
        expect(receipt.ack).toBe('logged')
        expect(await worker.scheduled()).toMatchObject({ outcome: 'ok' })
        const sql = await createConnection({ uri: mysqlUrl() })
        const [rows] = await sql.query(`SELECT version FROM \`${table}\` WHERE id = ?`, ['cron:1'])
        await sql.end()
        expect((rows as { version: number | string }[]).map((row) => Number(row.version))).toEqual([
          receipt.version,
        ])
      } finally {
        await worker.close()
      }
    })

    it('refuses redis:// and mysql:// URLs with a problem that names the HTTP settings to use', async () => {
      const worker = await workerTarget(TOKEN, {
        SYNC_REDIS_URL: redisUrl(),
        PLANETSCALE_URL: planetscale.url,
      })
      try {
        const answer = await worker.send({ method: 'GET', path: '/health' })
        expect(answer.status).toBe(500)
        const problem = JSON.parse(new TextDecoder().decode(answer.body)) as { detail: string }
        expect(problem.detail).toContain('UPSTASH_REDIS_REST_URL')
        expect(problem.detail).not.toContain(redisUrl())
      } finally {
        await worker.close()
      }
    })
  })
})
