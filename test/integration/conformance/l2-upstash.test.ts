import { randomBytes } from 'node:crypto'
import { BackendConfigError, BackendError, RedisStore } from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { BinaryArgumentError, UpstashTransport } from '@sync-engine/redis-upstash'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startUpstashRestServer, type UpstashRestServer } from '../../support/upstash-rest-server.ts'
import { describeWithRedis, redisUrl } from '../support/services.ts'
import { runL2Conformance } from './l2-conformance.ts'
import { binaryRecord, bytes, text } from './l2-records.ts'

/**
 * The L2 conformance suite over `@upstash/redis` REST, through the loopback Upstash REST server
 * over the local Redis, plus the transport's own REST-specific behaviour. The REST body is JSON,
 * so the transport says it is not binary-safe: the store sends its envelopes as base64 and the
 * version guard decodes them inside Redis. Damaged bytes the suite plants go through ioredis.
 */

const TOKEN = `tok-${randomBytes(12).toString('hex')}`
/** Upstash's limit on one request; the loopback server has none, the service does. */
const UPSTASH_MAX_REQUEST_BYTES = 10 * 1024 * 1024

describeWithRedis('Upstash REST against the loopback server over the local Redis', () => {
  let server: UpstashRestServer
  const url = () => server.url

  beforeAll(async () => {
    server = await startUpstashRestServer({ redisUrl: redisUrl(), token: TOKEN })
  })

  afterAll(async () => {
    await server?.close()
  })

  runL2Conformance('upstash', () => UpstashTransport.create({ url: url(), token: TOKEN }), {
    maxValueBytes: UPSTASH_MAX_REQUEST_BYTES,
    planter: () => IoredisTransport.create({ url: redisUrl() }),
  })

  describe('REST transport', () => {
    const key = `test:upstash:${randomBytes(5).toString('hex')}:`
    let transport: UpstashTransport

    beforeAll(async () => {
      transport = await UpstashTransport.create({ url: url(), token: TOKEN })
    })

    afterAll(async () => {
      await transport?.send(['UNLINK', `${key}text`, `${key}bom`, `${key}n`, `${key}ok`])
      await transport?.close()
    })

    it('carries UTF-8 text (a leading BOM too) as bytes both ways, and numbers as Redis formats them', async () => {
      const value = new TextEncoder().encode('\uFEFFZoë 🚀 OK')
      await transport.send(['SET', `${key}bom`, value])
      expect([...((await transport.send(['GET', `${key}bom`])) as Uint8Array)]).toEqual([...value])
      await transport.send(['SET', `${key}text`, 'héllo'])
      expect(text(await transport.send(['GET', `${key}text`]))).toBe('héllo')
      await transport.send(['SET', `${key}n`, 41])
      expect(await transport.send(['INCR', `${key}n`])).toBe(42)
      // A value that is the literal status text still reads back as its bytes.
      await transport.send(['SET', `${key}ok`, 'OK'])
      expect(text(await transport.send(['GET', `${key}ok`]))).toBe('OK')
      expect(text(await transport.send(['PING']))).toBe('PONG')
    })

    it('returns binary values byte for byte (base64 replies), written by someone else', async () => {
      const every = Uint8Array.from({ length: 256 }, (_, i) => i)
      const hex = Buffer.from(every).toString('hex')
      const replies = await transport.pipeline([
        [
          'EVAL',
          `redis.call('SET', KEYS[1], (ARGV[1]:gsub('..', function(h) return string.char(tonumber(h, 16)) end)))`,
          1,
          `${key}bin`,
          hex,
        ],
        ['GET', `${key}bin`],
        ['UNLINK', `${key}bin`],
      ])
      expect([...(replies[1] as Uint8Array)]).toEqual([...every])
    })

    it('refuses non-UTF-8 bytes with a BinaryArgumentError before sending, naming no bytes', async () => {
      const error = await transport.send(['SET', `${key}never`, bytes(0xff, 0, 1)]).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(BinaryArgumentError)
      expect(error).not.toBeInstanceOf(BackendError)
      expect((error as BinaryArgumentError).argument).toBe(2)
      expect(await transport.send(['EXISTS', `${key}never`])).toBe(0)
    })

    it('stores through the store exactly the bytes an ioredis store writes (the envelope as base64 on the wire)', async () => {
      // Content lengths 0–5 give envelopes of every length mod 3 (every base64 padding), in one
      // batched call; 256 bytes of every value, and repeated groups, in the same call.
      const records = [0, 1, 2, 3, 4, 5, 256].map((length) =>
        binaryRecord(
          `same-bytes-${length}`,
          7,
          Uint8Array.from({ length }, (_, i) => (length === 256 ? i : 0xff - i)),
        ),
      )
      const ids = records.map((record) => record.id)
      const rest = await RedisStore.open(transport, { prefix: `${key}rest:` })
      const direct = await IoredisTransport.create({ url: redisUrl() })
      const native = await RedisStore.open(direct, { prefix: `${key}native:` })
      // The items, and the layout records each store leaves under its prefix at init.
      const keys = [
        ...ids.flatMap((id) => [rest.keys.itemKey(id), native.keys.itemKey(id)]),
        rest.keys.internalKey('layout'),
        native.keys.internalKey('layout'),
      ]
      try {
        expect((await rest.write(records.map((record) => ({ record })))).applied).toBe(records.length)
        await native.write(records.map((record) => ({ record })))
        for (const id of ids) {
          const viaRest = await direct.send(['GET', rest.keys.itemKey(id)])
          const viaNative = await direct.send(['GET', native.keys.itemKey(id)])
          expect(viaRest, id).toBeInstanceOf(Uint8Array)
          expect([...(viaRest as Uint8Array)], id).toEqual([...(viaNative as Uint8Array)])
        }
        const back = await rest.read(ids)
        for (const record of records) {
          const found = back.get(record.id) as { content: Uint8Array }
          expect([...found.content], record.id).toEqual([...record.content!])
        }
      } finally {
        await direct.send(['UNLINK', ...keys]).catch(() => {})
        await direct.close()
      }
    })

    it('reports a wrong token as BackendConfigError without the token in the message', async () => {
      const wrong = `${TOKEN}-wrong`
      const error = await UpstashTransport.create({ url: url(), token: wrong }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(BackendConfigError)
      expect((error as Error).message).not.toContain(wrong)
      expect((error as Error).message).not.toContain(TOKEN)
    })

    it('fails an unreachable server with a retryable BackendError', async () => {
      const down = new UpstashTransport({ url: 'http://127.0.0.1:9', token: TOKEN, commandTimeoutMs: 1000 })
      const error = await down.send(['PING']).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(BackendError)
      expect(error).not.toBeInstanceOf(BackendConfigError)
      expect((error as BackendError).retryable).toBe(true)
      expect((error as Error).message).not.toContain(TOKEN)
    })

    it('fails a call past its deadline with a BackendError within the deadline', async () => {
      const slow = new UpstashTransport({ url: url(), token: TOKEN, commandTimeoutMs: 100 })
      const started = Date.now()
      const error = await slow
        .send([
          'EVAL',
          'local t = redis.call("TIME") while true do local n = redis.call("TIME") if (n[1] - t[1]) * 1000000 + n[2] - t[2] > 400000 then return 1 end end',
          0,
        ])
        .catch((e: unknown) => e)
      expect(Date.now() - started).toBeLessThan(350)
      expect(error).toBeInstanceOf(BackendError)
      expect((error as Error).message).toMatch(/within 100 ms/)
    })

    it('rejects a bad url or token up front, without echoing the token', () => {
      expect(() => new UpstashTransport({ url: 'redis://x', token: TOKEN })).toThrow(/http/)
      expect(() => new UpstashTransport({ url: url(), token: ' ' })).toThrow(/token/)
    })
  })
})
