import { randomBytes } from 'node:crypto'
import { PROBLEM_TYPE_BASE } from '@sync-engine/http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** One request as every runtime takes it, and its answer as bytes. */
export interface ContractRequest {
  readonly method: string
  readonly path: string
  readonly headers?: Record<string, string>
  readonly body?: Uint8Array | string
}

export interface ContractResponse {
  readonly status: number
  readonly headers: Headers
  readonly body: Uint8Array
}

/** A runtime under test: the Node server over sockets, the Lambda handler, the Worker in workerd. */
export interface ContractTarget {
  /** The API token the target was configured with. */
  readonly token: string
  send(request: ContractRequest): Promise<ContractResponse>
  close(): Promise<void>
}

const decoder = new TextDecoder()
const text = (response: ContractResponse) => decoder.decode(response.body)
const json = (response: ContractResponse) => JSON.parse(text(response)) as Record<string, unknown>

/** Bytes a text decoder would mangle: a PNG signature, NUL, 0xFF and an invalid UTF-8 run. */
const BINARY = Uint8Array.of(
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a,
  0x00,
  0xff,
  0xfe,
  0xc3,
  0x28,
  0x00,
  0xff,
)

/**
 * The HTTP contract every runtime keeps: the same cases run against the Node server, the Lambda
 * handler (API Gateway v2 events, binary bodies base64 as Lambda sends them) and the Worker bundle
 * in Miniflare. Ids are unique per run, so targets over shared tiers do not see each other's items.
 */
export function httpContract(name: string, open: () => Promise<ContractTarget>): void {
  describe(`HTTP contract: ${name}`, () => {
    let target: ContractTarget
    const run = randomBytes(4).toString('hex')
    const id = (name: string) => `${run}:${name}`
    const path = (name: string) => `/v1/items/${encodeURIComponent(id(name))}`
    const send = (request: ContractRequest) =>
      target.send({ ...request, headers: { authorization: `Bearer ${target.token}`, ...request.headers } })
    const expectProblem = (response: ContractResponse, status: number, type: string) => {
      expect(response.status, text(response)).toBe(status)
      expect(response.headers.get('content-type')).toBe('application/problem+json')
      const problem = json(response)
      expect(problem).toMatchObject({ type: `${PROBLEM_TYPE_BASE}${type}`, status })
      return problem
    }

    beforeAll(async () => {
      target = await open()
    })
    afterAll(async () => {
      await target?.close()
    })

    it('PUT then GET a JSON item: normalised bytes, application/json, the receipt version as ETag', async () => {
      const put = await send({
        method: 'PUT',
        path: path('json'),
        headers: { 'content-type': 'application/json' },
        body: '{ "name" : "Zoë", "big": 12345678901234567890 }',
      })
      expect(put.status, text(put)).toBe(200)
      const receipt = json(put) as { id: string; version: number; ack: string }
      expect(receipt).toMatchObject({ id: id('json'), ack: 'logged' })
      expect(put.headers.get('etag')).toBe(`"${receipt.version}"`)
      const got = await send({ method: 'GET', path: path('json') })
      expect(got.status).toBe(200)
      expect(got.headers.get('content-type')).toBe('application/json')
      expect(got.headers.get('etag')).toBe(`"${receipt.version}"`)
      expect(text(got)).toBe('{"name":"Zoë","big":12345678901234567890}')
    })

    it('PUT then GET binary bytes exactly, with the Content-Type as sent', async () => {
      const put = await send({
        method: 'PUT',
        path: path('bin'),
        headers: { 'content-type': 'image/png' },
        body: BINARY,
      })
      expect(put.status, text(put)).toBe(200)
      const got = await send({ method: 'GET', path: path('bin') })
      expect(got.status).toBe(200)
      expect(got.headers.get('content-type')).toBe('image/png')
      expect([...got.body]).toEqual([...BINARY])
    })

    it('answers 304 to If-None-Match with the current ETag, 200 with another', async () => {
      const put = await send({
        method: 'PUT',
        path: path('etag'),
        headers: { 'content-type': 'application/json' },
        body: '1',
      })
      const etag = put.headers.get('etag')!
      const same = await send({ method: 'GET', path: path('etag'), headers: { 'if-none-match': etag } })
      expect(same.status).toBe(304)
      expect(same.body.byteLength).toBe(0)
      const other = await send({ method: 'GET', path: path('etag'), headers: { 'if-none-match': '"1"' } })
      expect(other.status).toBe(200)
    })

    it('a rewrite gets a strictly higher version; DELETE answers 204 (idempotent); then 404 not-found', async () => {
      const first = json(
        await send({ method: 'PUT', path: path('rw'), body: 'a', headers: { 'content-type': 'text/plain' } }),
      )
      const second = json(
        await send({ method: 'PUT', path: path('rw'), body: 'b', headers: { 'content-type': 'text/plain' } }),
      )
      expect(second.version as number).toBeGreaterThan(first.version as number)
      const deleted = await send({ method: 'DELETE', path: path('rw') })
      expect(deleted.status, text(deleted)).toBe(204)
      expect(deleted.body.byteLength).toBe(0)
      expectProblem(await send({ method: 'GET', path: path('rw') }), 404, 'not-found')
      expect((await send({ method: 'DELETE', path: path('rw') })).status).toBe(204)
    })

    it('batch write and batch get, in request order, binary as base64', async () => {
      const written = await send({
        method: 'POST',
        path: '/v1/items:batch',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          ops: [
            { op: 'put', id: id('b-json'), value: { n: [1, 2] } },
            { op: 'put', id: id('b-bin'), base64: 'AAH/gA==', mime: 'image/png' },
          ],
        }),
      })
      expect(written.status, text(written)).toBe(200)
      const got = await send({
        method: 'POST',
        path: '/v1/items:batchGet',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ids: [id('b-bin'), id('b-none'), id('b-json')] }),
      })
      expect(got.status).toBe(200)
      const { items } = json(got) as { items: Record<string, unknown>[] }
      expect(items.map((item) => [item.id, item.found])).toEqual([
        [id('b-bin'), true],
        [id('b-none'), false],
        [id('b-json'), true],
      ])
      expect(items[0]).toMatchObject({ base64: 'AAH/gA==', mime: 'image/png' })
      expect(items[2]).toMatchObject({ value: { n: [1, 2] } })
    })

    it('answers bad input with problem+json: invalid JSON, an unknown route, a wrong method, a bad ack', async () => {
      expectProblem(
        await send({
          method: 'PUT',
          path: path('bad'),
          headers: { 'content-type': 'application/json' },
          body: '{nope',
        }),
        400,
        'invalid-json',
      )
      expectProblem(await send({ method: 'GET', path: '/v1/nothing-here' }), 404, 'not-found')
      const wrong = expectProblem(
        await send({ method: 'PATCH', path: path('bad'), body: 'x' }),
        405,
        'method-not-allowed',
      )
      expect(wrong.detail).toBeTypeOf('string')
      expectProblem(
        await send({
          method: 'PUT',
          path: `${path('bad')}?ack=sometime`,
          body: 'x',
          headers: { 'content-type': 'text/plain' },
        }),
        400,
        'invalid-argument',
      )
    })

    it('refuses a request without the token (401 unauthorized), or with a wrong one; /health needs none', async () => {
      const none = await target.send({ method: 'GET', path: path('json') })
      expectProblem(none, 401, 'unauthorized')
      const wrong = await target.send({
        method: 'GET',
        path: path('json'),
        headers: { authorization: 'Bearer wrong-token-0123456789' },
      })
      expectProblem(wrong, 401, 'unauthorized')
      const health = await target.send({ method: 'GET', path: '/health' })
      expect(health.status).toBe(200)
    })
  })
}
