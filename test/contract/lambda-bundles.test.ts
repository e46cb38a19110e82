import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { isBuiltin } from 'node:module'
import { join } from 'node:path'
import {
  type FlushOutboxReport,
  RedisOutbox,
  RedisStore,
  type RedisTransport,
} from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { createConnection } from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hlc, json, T } from '../integration/conformance/wal-writes.ts'
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
import { DIST } from './contract-targets.ts'
import { httpEvent, lambdaProcesses } from './lambda-process.ts'

const MiB = 1024 * 1024

/** mysql2 asks for `cardinal` (SQL highlighting) inside a try and goes on without it. */
const OPTIONAL_REQUIRES = new Set(['cardinal'])

describe('the bundles npm run build writes', () => {
  it('each entry is at most 1 MiB with what it imports statically; drivers a configuration may not need are lazy chunks', async () => {
    const report = JSON.parse(await readFile(join(DIST, 'bundles.json'), 'utf8'))
    for (const entry of ['dist/lambda/api.mjs', 'dist/lambda/flusher.mjs', 'dist/worker/index.mjs']) {
      expect(report[entry].staticBytes, entry).toBeLessThanOrEqual(MiB)
    }
    // ioredis, mysql2, Upstash and PlanetScale each load only when configured.
    expect(report['dist/lambda/api.mjs'].lazyChunks).toBeGreaterThanOrEqual(4)
  })

  it('Lambda bundles import only Node built-ins; the Worker bundle imports nothing', async () => {
    const { externals } = JSON.parse(await readFile(join(DIST, 'bundles.json'), 'utf8'))
    const foreign = (externals['dist/lambda'] as string[]).filter(
      (name) => !isBuiltin(name) && !OPTIONAL_REQUIRES.has(name),
    )
    expect(foreign).toEqual([])
    expect(externals['dist/worker']).toEqual([])
  })
})

describeWithRedis('Lambda bundles in processes of their own', () => {
  describeWithMysql('over ioredis and mysql2', () => {
    const token = `lproc-${randomBytes(12).toString('hex')}`
    const prefix = `test:lproc:${randomBytes(4).toString('hex')}:`
    const tables = mysqlTables()
    const table = tables.next()
    const env = {
      SYNC_REDIS_URL: redisUrl(),
      SYNC_SQL_URL: mysqlUrl(),
      SYNC_SQL_TABLE: table,
      SYNC_REDIS_PREFIX: prefix,
      SYNC_API_TOKENS: token,
      SYNC_LOG_LEVEL: 'warn',
    }
    const { start } = lambdaProcesses(() => env)
    const sqlVersions = async (ids: readonly string[]) => {
      const sql = await createConnection({ uri: mysqlUrl() })
      try {
        const [rows] = await sql.query(`SELECT id, version FROM \`${table}\` WHERE id IN (?)`, [ids])
        return new Map(
          (rows as { id: Buffer | string; version: number | string }[]).map((row) => [
            String(row.id),
            Number(row.version),
          ]),
        )
      } finally {
        await sql.end()
      }
    }

    afterAll(async () => {
      await deleteRedisPrefix(prefix)
      await tables.dropAll()
    })

    it('acknowledged writes survive SIGKILL right after the answer; a new instance reads them from L2; the flusher (invoked with {}) stores them at their receipt versions', async () => {
      const api = start('api.mjs')
      const receipts = new Map<string, number>()
      for (let n = 0; n < 20; n++) {
        const id = `killed-${n}`
        const { result } = await api.invoke(
          httpEvent('PUT', `/v1/items/${id}`, {
            token,
            body: JSON.stringify({ n }),
            contentType: 'application/json',
          }),
        )
        expect(result.statusCode, result.body).toBe(200)
        const receipt = JSON.parse(result.body) as { version: number; ack: string }
        expect(receipt.ack).toBe('logged')
        receipts.set(id, receipt.version)
      }
      await api.kill()

      const fresh = start('api.mjs')
      const { result: got } = await fresh.invoke(httpEvent('GET', '/v1/items/killed-7', { token }))
      expect(got.statusCode).toBe(200)
      expect(got.headers.etag).toBe(`"${receipts.get('killed-7')}"`)

      const flusher = start('flusher.mjs')
      const { result: report } = await flusher.invoke<FlushOutboxReport>({})
      expect(report).toMatchObject({ drained: 20, failed: 0, left: 0 })
      expect(Object.fromEntries(await sqlVersions([...receipts.keys()]))).toEqual(
        Object.fromEntries(receipts),
      )
    })

    it('two flushers at once drain everything between them; a flusher killed mid-run loses nothing when run again', async () => {
      const transport: RedisTransport = await IoredisTransport.create({ url: redisUrl() })
      try {
        const store = await RedisStore.open(transport, { prefix })
        const outbox = new RedisOutbox(store, { maxBytes: 1 << 30 })
        const latest = new Map<string, number>()
        // 6,000 writes of 3,000 ids: every id twice, so the drain must keep the newer of each.
        for (let round = 0; round < 2; round++) {
          const writes = Array.from({ length: 3_000 }, (_, n) =>
            json(`many-${n}`, hlc(round * 10_000 + n + 1), { round }),
          )
          for (let at = 0; at < writes.length; at += 500) await outbox.put(writes.slice(at, at + 500), T)
          for (const write of writes) latest.set(write.id, write.version)
        }
        const doomed = start('flusher.mjs')
        // Killed wherever it is (mid-page, between pages, or done): the rerun must finish the job.
        let finished = false
        const running = doomed
          .invoke({})
          .catch(() => undefined)
          .finally(() => {
            finished = true
          })
        // Killed once it has stored something (mid-run), unless it finished first.
        const sql = await createConnection({ uri: mysqlUrl() })
        for (let polls = 0; polls < 2_000 && !finished; polls++) {
          const [rows] = await sql.query(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE id LIKE 'many-%'`)
          if (Number((rows as { n: number }[])[0]?.n) > 0) break
          await new Promise((resolve) => setTimeout(resolve, 2))
        }
        await sql.end()
        await doomed.kill()
        await running
        // Its leases (if it took any) run out with the time the invocation had; here, at once.
        for (let shard = 0; shard < store.keys.shards; shard++)
          await store.send(['DEL', store.keys.shardKey(shard, 'o:lease')])

        const [a, b] = await Promise.all([
          start('flusher.mjs').invoke<FlushOutboxReport>({}),
          start('flusher.mjs').invoke<FlushOutboxReport>({}),
        ])
        expect(a.error ?? b.error).toBeUndefined()
        // `left` is counted when each ends: the one that ends last sees an empty outbox.
        expect(Math.min(a.result.left, b.result.left)).toBe(0)
        expect(a.result.drained + b.result.drained).toBeGreaterThan(0)
        expect(Object.fromEntries(await sqlVersions([...latest.keys()]))).toEqual(Object.fromEntries(latest))
      } finally {
        await transport.close()
      }
    })

    it('a flusher that cannot reach SQL fails the invocation and removes nothing; the next one drains', async () => {
      const api = start('api.mjs')
      const { result } = await api.invoke(
        httpEvent('PUT', '/v1/items/while-down', { token, body: '"kept"', contentType: 'application/json' }),
      )
      const version = (JSON.parse(result.body) as { version: number }).version
      const down = start('flusher.mjs', { SYNC_SQL_URL: 'mysql://root@127.0.0.1:1/test' })
      const failed = await down.invoke({})
      expect(failed.error).toBeDefined()
      expect(failed.error).not.toContain('root@')
      const back = start('flusher.mjs')
      const { result: report } = await back.invoke<FlushOutboxReport>({})
      expect(report).toMatchObject({ failed: 0, left: 0 })
      expect((await sqlVersions(['while-down'])).get('while-down')).toBe(version)
    })

    it('a misconfigured function answers every request with a problem naming the setting, never a value', async () => {
      const api = start('api.mjs', { SYNC_API_TOKENS: '' })
      const { result } = await api.invoke(httpEvent('GET', '/v1/items/x', { token }))
      expect(result.statusCode).toBe(500)
      expect(result.headers['content-type']).toBe('application/problem+json')
      expect(JSON.parse(result.body).detail).toContain('SYNC_API_TOKENS')
      expect(result.body).not.toContain(redisUrl())
    })
  })
})

describeWithRedis('the Lambda bundles over the HTTP drivers', () => {
  describeWithMysql('Upstash and PlanetScale through the loopback servers', () => {
    const token = `lhttp-${randomBytes(12).toString('hex')}`
    const restToken = `rest-${randomBytes(12).toString('hex')}`
    const prefix = `test:lhttp:${randomBytes(4).toString('hex')}:`
    const tables = mysqlTables()
    const table = tables.next()
    let upstash: UpstashRestServer
    let planetscale: PlanetScaleHttpServer
    const { start } = lambdaProcesses(() => ({
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: restToken,
      PLANETSCALE_URL: planetscale.url,
      SYNC_SQL_TABLE: table,
      SYNC_REDIS_PREFIX: prefix,
      SYNC_API_TOKENS: token,
      SYNC_LOG_LEVEL: 'warn',
    }))

    beforeAll(async () => {
      upstash = await startUpstashRestServer({ redisUrl: redisUrl(), token: restToken })
      planetscale = await startPlanetScaleHttpServer({
        mysqlUrl: mysqlUrl(),
        database: new URL(mysqlUrl()).pathname.slice(1) || 'test',
        username: 'lambda',
        password: `pw-${randomBytes(6).toString('hex')}`,
      })
    })
    afterAll(async () => {
      await upstash?.close()
      await planetscale?.close()
      await deleteRedisPrefix(prefix)
      await tables.dropAll()
    })

    it('load their drivers from the copy (lazy chunks), serve binary bytes exactly, and flush into PlanetScale', async () => {
      const api = start('api.mjs')
      const flusher = start('flusher.mjs')
      const bytes = Uint8Array.of(0, 1, 2, 0xff, 0xfe, 0x80)
      const { result: put } = await api.invoke(
        httpEvent('PUT', '/v1/items/bin%3A1', {
          token,
          body: bytes,
          contentType: 'application/octet-stream',
        }),
      )
      expect(put.statusCode, put.body).toBe(200)
      const version = (JSON.parse(put.body) as { version: number }).version
      const { result: got } = await api.invoke(httpEvent('GET', '/v1/items/bin%3A1', { token }))
      expect(got.isBase64Encoded).toBe(true)
      expect([...Buffer.from(got.body, 'base64')]).toEqual([...bytes])
      const { result: report } = await flusher.invoke<FlushOutboxReport>({})
      expect(report).toMatchObject({ drained: 1, failed: 0, left: 0 })
      const sql = await createConnection({ uri: mysqlUrl() })
      const [rows] = await sql.query(`SELECT version, payload_blob FROM \`${table}\` WHERE id = ?`, ['bin:1'])
      await sql.end()
      const [row] = rows as { version: number | string; payload_blob: Buffer }[]
      expect(Number(row?.version)).toBe(version)
      expect([...(row?.payload_blob ?? [])]).toEqual([...bytes])
    })
  })
})
