import { createHash, randomBytes } from 'node:crypto'
import { Redis as Upstash } from '@upstash/redis'
import { Redis as IORedis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startUpstashRestServer, type UpstashRestServer } from '../support/upstash-rest-server.ts'
import { describeWithRedis, redisUrl } from './support/services.ts'

/**
 * The loopback Upstash REST server, checked with the real `@upstash/redis` client against the real
 * Redis. Every key lives under this file's random prefix and is deleted afterwards.
 */

const PREFIX = `it:upstash-rest:${randomBytes(5).toString('hex')}:`
const TOKEN = `tok-${randomBytes(8).toString('hex')}`
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
const ASCII_BYTES = ALL_BYTES.subarray(0, 128)

describeWithRedis('Upstash REST loopback server over the local Redis', () => {
  let server: UpstashRestServer
  let direct: IORedis
  const used: string[] = []
  const key = (name: string): string => {
    const full = `${PREFIX}${name}:${used.length}`
    used.push(full)
    return full
  }

  beforeAll(async () => {
    direct = new IORedis(redisUrl(), { lazyConnect: true })
    await direct.connect()
    server = await startUpstashRestServer({ redisUrl: redisUrl(), token: TOKEN })
  })

  afterAll(async () => {
    if (used.length > 0) await direct?.del(...used)
    await server?.close()
    await direct?.quit()
  })

  const client = (options: { enableAutoPipelining?: boolean; responseEncoding?: false } = {}) =>
    new Upstash({ url: server.url, token: TOKEN, automaticDeserialization: false, ...options })

  /** A raw protocol call, for what the client hides (status codes, headers, exact bytes). */
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })
    return { status: res.status, headers: res.headers, body: (await res.json()) as unknown }
  }
  const BASE64 = { 'Upstash-Encoding': 'base64' }

  // Auto-pipelining (the default) sends everything to /pipeline; turning it off uses POST /.
  for (const [mode, autoPipelining] of [
    ['auto-pipelined client (/pipeline)', true],
    ['one request per command (/)', false],
  ] as const) {
    describe(mode, () => {
      const redis = () => client({ enableAutoPipelining: autoPipelining })

      it('sets and gets UTF-8 text, numbers and missing keys', async () => {
        const k = key('text')
        const text = 'héllo wörld ✓ 🚀 "quoted" OK'
        expect(await redis().set(k, text, { ex: 60 })).toBe('OK')
        expect(await direct.getBuffer(k)).toEqual(Buffer.from(text, 'utf8'))
        expect(await direct.ttl(k)).toBeGreaterThan(0)
        expect(await redis().get(k)).toBe(text)
        const n = key('number')
        await redis().set(n, 42)
        expect(await direct.get(n)).toBe('42')
        expect(await redis().incrby(n, 8)).toBe(50)
        expect(await redis().get(key('missing'))).toBeNull()
      })

      it('carries every code point U+0000–U+00FF both ways as UTF-8', async () => {
        const k = key('latin')
        const text = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i))
        await redis().set(k, text)
        expect(await direct.getBuffer(k)).toEqual(Buffer.from(text, 'utf8'))
        expect(await redis().get(k)).toBe(text)
      })

      it('reads bytes written by ioredis (0x00–0x7F exactly through the client)', async () => {
        const k = key('ascii-bytes')
        await direct.set(k, ASCII_BYTES)
        expect(await redis().get(k)).toBe(ASCII_BYTES.toString('latin1'))
      })

      it('runs eval with keys and args, keeping nested arrays, integers and nils', async () => {
        const [a, b] = [key('eval-a'), key('eval-b')]
        const script =
          "redis.call('SET', KEYS[1], ARGV[1]); " +
          "return {KEYS[1], ARGV[1], redis.call('INCRBY', KEYS[2], ARGV[2]), false, {ARGV[1], 7}}"
        const result = await redis().eval(script, [a, b], ['välue', '5'])
        expect(result).toEqual([a, 'välue', 5, null, ['välue', 7]])
        expect(await direct.get(a)).toBe('välue')
        expect(await direct.get(b)).toBe('5')
      })

      it('runs evalsha after scriptLoad', async () => {
        const k = key('evalsha')
        const script = `return redis.call('INCRBY', KEYS[1], ARGV[1]) -- ${randomBytes(6).toString('hex')}`
        const sha = await redis().scriptLoad(script)
        expect(sha).toBe(createHash('sha1').update(script).digest('hex'))
        expect(await redis().evalsha(sha, [k], ['3'])).toBe(3)
        expect(await redis().evalsha(sha, [k], ['4'])).toBe(7)
      })

      it('falls back from evalsha to eval on NOSCRIPT', async () => {
        const k = key('noscript')
        // A body no one has loaded, so the first EVALSHA must miss.
        const body = `return redis.call('SET', KEYS[1], ARGV[1]) -- ${randomBytes(6).toString('hex')}`
        const sha = createHash('sha1').update(body).digest('hex')
        expect(await direct.script('EXISTS', sha)).toEqual([0])
        await expect(redis().evalsha(sha, [k], ['x'])).rejects.toThrow(/NOSCRIPT/)
        expect(await redis().createScript(body).exec([k], ['via-fallback'])).toBe('OK')
        expect(await direct.get(k)).toBe('via-fallback')
        expect(await direct.script('EXISTS', sha)).toEqual([1]) // EVAL ran it, and cached it
      })

      it('surfaces an error reply as a rejected command', async () => {
        const k = key('not-int')
        await direct.set(k, 'abc')
        await expect(redis().incr(k)).rejects.toThrow(/ERR value is not an integer/)
        expect(await direct.get(k)).toBe('abc')
      })
    })
  }

  describe('wire format', () => {
    it('base64-encodes the raw bytes 0x00–0xFF, top-level and nested', async () => {
      const [k, l] = [key('bytes'), key('bytes-list')]
      await direct.set(k, ALL_BYTES)
      await direct.rpush(l, ALL_BYTES, Buffer.from([0xff, 0x00, 0xfe]))
      const one = await post('/', ['get', k], BASE64)
      expect(one.status).toBe(200)
      const result = (one.body as { result: string }).result
      expect(Buffer.from(result, 'base64')).toEqual(ALL_BYTES)
      const piped = await post(
        '/pipeline',
        [
          ['strlen', k],
          ['lrange', l, 0, -1],
          ['set', k, 'v'],
        ],
        BASE64,
      )
      const [len, range, ok] = piped.body as [{ result: number }, { result: string[] }, { result: string }]
      expect(len.result).toBe(256)
      expect(range.result.map((s) => Buffer.from(s, 'base64'))).toEqual([
        ALL_BYTES,
        Buffer.from([0xff, 0, 0xfe]),
      ])
      expect(ok.result).toBe('OK') // the status stays literal, as the client expects
    })

    it('passes the bytes to the client, whose UTF-8 decoding is the only loss', async () => {
      const k = key('bytes-client')
      await direct.set(k, ALL_BYTES)
      // @upstash/redis decodes base64 with TextDecoder, so bytes that are not UTF-8 become U+FFFD:
      // what it returns is exactly the UTF-8 decoding of what Redis holds, nothing else.
      expect(await client().get(k)).toBe(new TextDecoder().decode(ALL_BYTES))
    })

    it('answers plain UTF-8 strings without Upstash-Encoding', async () => {
      const k = key('plain')
      await direct.set(k, 'grüße')
      expect((await post('/', ['get', k])).body).toEqual({ result: 'grüße' })
      expect(await client({ responseEncoding: false }).get(k)).toBe('grüße')
    })

    it('answers a command error with status 400 and {error}', async () => {
      const k = key('bad-incr')
      await direct.set(k, 'abc')
      const res = await post('/', ['incr', k], BASE64)
      expect(res.status).toBe(400)
      expect(res.body).toEqual({ error: expect.stringMatching(/^ERR value is not an integer/) })
    })

    it('echoes the upstash-sync-token header', async () => {
      const res = await post('/', ['ping'], { 'upstash-sync-token': 'sync-123' })
      expect(res.headers.get('upstash-sync-token')).toBe('sync-123')
      expect(res.body).toEqual({ result: 'PONG' })
    })
  })

  describe('pipelines and transactions', () => {
    it('runs a client pipeline in order', async () => {
      const [a, h, l] = [key('pipe-a'), key('pipe-h'), key('pipe-l')]
      const results = await client()
        .pipeline()
        .set(a, '1')
        .incr(a)
        .get(a)
        .hset(h, { f1: 'v1', f2: 'v2' })
        .hgetall(h)
        .rpush(l, 'x', 'y')
        .lrange(l, 0, -1)
        .get(key('pipe-missing'))
        .exec()
      // A hash comes back as RESP2's flat array; the deserializing client turns exactly that into an object.
      expect(results).toEqual(['OK', 2, '2', 2, ['f1', 'v1', 'f2', 'v2'], 2, ['x', 'y'], null])
      const deserializing = new Upstash({ url: server.url, token: TOKEN })
      expect(await deserializing.hgetall(h)).toEqual({ f1: 'v1', f2: 'v2' })
    })

    it('keeps per-command errors of a pipeline in place', async () => {
      const k = key('pipe-err')
      const p = client().pipeline().set(k, 'abc').incr(k).get(k)
      const results = await p.exec({ keepErrors: true })
      expect(results.map((r) => r.result)).toEqual(['OK', undefined, 'abc'])
      expect(results[1]?.error).toMatch(/ERR value is not an integer/)
      await expect(client().pipeline().incr(k).exec()).rejects.toThrow(/ERR value is not an integer/)
    })

    it('runs a client transaction whose effects are all visible', async () => {
      const [a, l, h] = [key('tx-a'), key('tx-l'), key('tx-h')]
      const results = await client()
        .multi()
        .set(a, '10')
        .incrby(a, 5)
        .rpush(l, 'p', 'q')
        .hset(h, { f: 'v' })
        .lrange(l, 0, -1)
        .exec()
      expect(results).toEqual(['OK', 15, 2, 1, ['p', 'q']])
      expect(await direct.get(a)).toBe('15')
      expect(await direct.lrange(l, 0, -1)).toEqual(['p', 'q'])
      expect(await direct.hgetall(h)).toEqual({ f: 'v' })
    })

    it('is a real MULTI/EXEC: a command refused while queueing discards the whole transaction', async () => {
      const [t, p] = [key('tx-abort'), key('pipe-no-abort')]
      const tx = await post('/multi-exec', [['set', t, 'v'], ['get']], BASE64)
      expect(tx.status).toBe(400)
      expect(tx.body).toEqual({ error: expect.stringMatching(/EXECABORT/) })
      expect(await direct.exists(t)).toBe(0)
      // The same commands as a pipeline are not atomic: the SET happens.
      const piped = await post('/pipeline', [['set', p, 'v'], ['get']], BASE64)
      expect(piped.body).toEqual([
        { result: 'OK' },
        { error: expect.stringMatching(/wrong number of arguments/) },
      ])
      expect(await direct.get(p)).toBe('v')
    })

    it('reports a runtime error inside EXEC in place, as Redis runs the rest', async () => {
      const [k, after] = [key('tx-rt'), key('tx-rt-after')]
      const res = await post(
        '/multi-exec',
        [
          ['set', k, 'abc'],
          ['incr', k],
          ['set', after, 'ran'],
        ],
        BASE64,
      )
      expect(res.status).toBe(200)
      expect(res.body).toEqual([
        { result: 'OK' },
        { error: expect.stringMatching(/ERR value is not an integer/) },
        { result: 'OK' },
      ])
      expect(await direct.get(after)).toBe('ran')
      await expect(client().multi().set(k, 'abc').incr(k).exec()).rejects.toThrow(/not an integer/)
    })
  })

  describe('authentication', () => {
    it('refuses a wrong or missing token with 401', async () => {
      const k = key('auth')
      await direct.set(k, 'secret')
      const wrong = new Upstash({ url: server.url, token: 'wrong', automaticDeserialization: false })
      await expect(wrong.get(k)).rejects.toThrow(/Unauthorized/)
      const missing = await fetch(server.url, { method: 'POST', body: JSON.stringify(['get', k]) })
      expect(missing.status).toBe(401)
      expect(await missing.json()).toEqual({ error: 'Unauthorized' })
      const close = await post('/', ['get', k], { authorization: `Bearer ${TOKEN}x` })
      expect(close.status).toBe(401)
    })
  })
})
