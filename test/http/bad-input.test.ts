import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type HttpTestEngine, openHttpTestEngine, storedSnapshot } from './support/http-test-engine.ts'
import { expectProblem } from './support/problem-assertions.ts'

const LIMIT = 1024

let t: HttpTestEngine
let before: Awaited<ReturnType<typeof storedSnapshot>>

beforeAll(async () => {
  t = await openHttpTestEngine({ maxPayloadBytes: LIMIT })
  // One stored item, so "nothing changed" is checked against a non-empty store.
  await t.app.request('/v1/items/existing', {
    method: 'PUT',
    body: 'x',
    headers: { 'content-type': 'text/plain' },
  })
})
afterAll(async () => {
  await t.dispose()
})
beforeEach(async () => {
  before = await storedSnapshot(t)
})

async function expectNothingStored() {
  expect(await storedSnapshot(t)).toEqual(before)
}

function put(rawPath: string, body: RequestInit['body'], headers: Record<string, string> = {}) {
  return t.app.request(rawPath, {
    method: 'PUT',
    body,
    headers: { 'content-type': 'text/plain', ...headers },
  })
}

/** A body the app reads as a stream of chunks, with no Content-Length (as a chunked upload). */
function streamOf(totalBytes: number, chunkBytes = 256): ReadableStream<Uint8Array> {
  let sent = 0
  return new ReadableStream({
    pull(controller) {
      if (sent >= totalBytes) return controller.close()
      const size = Math.min(chunkBytes, totalBytes - sent)
      sent += size
      controller.enqueue(new Uint8Array(size).fill(0x61))
    },
  })
}

describe('ids', () => {
  it('an empty id (PUT /v1/items/) matches no route: 404 not-found', async () => {
    await expectProblem(await put('/v1/items/', 'x'), 404, 'not-found')
    await expectProblem(await t.app.request('/v1/items/'), 404, 'not-found')
    await expectProblem(await t.app.request('/v1/items//status'), 404, 'not-found')
    await expectNothingStored()
  })

  it('a 513-byte id answers 400 invalid-id (512 bytes is accepted)', async () => {
    await expectProblem(await put(`/v1/items/${'a'.repeat(513)}`, 'x'), 400, 'invalid-id')
    await expectProblem(await put(`/v1/items/${'é'.repeat(257)}`, 'x'), 400, 'invalid-id') // 514 bytes
    await expectNothingStored()
    expect((await put(`/v1/items/${'a'.repeat(512)}`, 'x')).status).toBe(200)
  })

  it.each([
    ['%01', 'a C0 control'],
    ['a%00b', 'NUL'],
    ['%7F', 'DEL'],
    ['%C2%80', 'a C1 control'],
    ['tab%09', 'a tab'],
  ])('an id with %s (%s) answers 400 invalid-id', async (encoded) => {
    await expectProblem(await put(`/v1/items/${encoded}`, 'x'), 400, 'invalid-id')
    await expectProblem(await t.app.request(`/v1/items/${encoded}`), 400, 'invalid-id')
    await expectProblem(await t.app.request(`/v1/items/${encoded}`, { method: 'DELETE' }), 400, 'invalid-id')
    await expectProblem(await t.app.request(`/v1/items/${encoded}/status`), 400, 'invalid-id')
    await expectNothingStored()
  })

  it('a malformed percent-escape answers 400 invalid-id instead of storing the escape literally', async () => {
    await expectProblem(await put('/v1/items/%FF', 'x'), 400, 'invalid-id')
    await expectProblem(await put('/v1/items/%E2%82', 'x'), 400, 'invalid-id')
    await expectNothingStored()
    expect(await t.engine.get('%FF')).toBeUndefined()
  })

  it('an id with an unencoded slash matches no route: 404 not-found', async () => {
    await expectProblem(await put('/v1/items/a/b', 'x'), 404, 'not-found')
    await expectNothingStored()
  })
})

describe('bodies', () => {
  it('a streamed body past maxPayloadBytes answers 413 payload-too-large', async () => {
    await expectProblem(
      await t.app.request('/v1/items/big-stream', {
        method: 'PUT',
        body: streamOf(LIMIT + 1),
        duplex: 'half',
      } as RequestInit),
      413,
      'payload-too-large',
    )
    await expectNothingStored()
  })

  it('a Content-Length past the limit answers 413 without reading the body', async () => {
    // The header claims more than the limit; the body is tiny: only the header can cause the 413.
    const res = await put('/v1/items/big-declared', 'x', { 'content-length': String(LIMIT + 1) })
    const problem = await expectProblem(res, 413, 'payload-too-large')
    expect(problem.detail).toContain(String(LIMIT + 1))
    await expectNothingStored()
  })

  it('a body of exactly maxPayloadBytes is accepted', async () => {
    const res = await put('/v1/items/at-limit', new Uint8Array(LIMIT))
    expect(res.status).toBe(200)
  })

  it('malformed JSON sent as application/json answers 400 invalid-json', async () => {
    await expectProblem(
      await put('/v1/items/bad-json', '{"a": ', { 'content-type': 'application/json' }),
      400,
      'invalid-json',
    )
    await expectProblem(
      await put('/v1/items/bad-json', '', { 'content-type': 'application/json' }),
      400,
      'invalid-json',
    )
    await expectProblem(
      await put('/v1/items/bad-json', new Uint8Array([0x22, 0xff, 0x22]), {
        'content-type': 'application/json',
      }),
      400,
      'invalid-json',
    )
    await expectNothingStored()
  })

  it('a Content-Type the core refuses as mime answers 400 invalid-argument', async () => {
    await expectProblem(
      await put('/v1/items/bad-mime', 'x', { 'content-type': `text/${'x'.repeat(300)}` }),
      400,
      'invalid-argument',
    )
    await expectNothingStored()
  })
})

describe('routes and methods', () => {
  it('an unknown route answers 404 not-found', async () => {
    await expectProblem(await t.app.request('/v2/items/a'), 404, 'not-found')
    await expectProblem(
      await t.app.request('/v1/itemsXbatch', { method: 'POST', body: '{}' }),
      404,
      'not-found',
    )
    await expectNothingStored()
  })

  it('a known route with the wrong method answers 405 method-not-allowed with Allow', async () => {
    const res = await t.app.request('/v1/items/a', { method: 'POST', body: 'x' })
    expect(res.headers.get('allow')).toBe('PUT, GET, HEAD, DELETE')
    await expectProblem(res, 405, 'method-not-allowed')
    const batch = await t.app.request('/v1/items:batch')
    expect(batch.headers.get('allow')).toBe('POST')
    await expectProblem(batch, 405, 'method-not-allowed')
    await expectProblem(await t.app.request('/v1/admin/flush'), 405, 'method-not-allowed')
    await expectNothingStored()
  })
})

describe('batch envelopes', () => {
  it('malformed JSON answers 400 invalid-json', async () => {
    for (const route of ['/v1/items:batch', '/v1/items:batchGet']) {
      await expectProblem(
        await t.app.request(route, { method: 'POST', body: '{"ops": [' }),
        400,
        'invalid-json',
      )
    }
    await expectNothingStored()
  })

  it('a body that is JSON of the wrong shape answers 400 invalid-argument', async () => {
    for (const body of ['[]', '{"ops": {}}', '{"ops": [], "extra": 1}', '{"ops": [], "ack": "never"}']) {
      await expectProblem(
        await t.app.request('/v1/items:batch', { method: 'POST', body }),
        400,
        'invalid-argument',
      )
    }
    await expectProblem(
      await t.app.request('/v1/items:batchGet', { method: 'POST', body: '{"ids": [1]}' }),
      400,
      'invalid-argument',
    )
    await expectNothingStored()
  })

  it('more than 1000 entries answer 400 invalid-argument', async () => {
    const ops = Array.from({ length: 1001 }, (_, i) => ({ op: 'delete', id: `x${i}` }))
    await expectProblem(
      await t.app.request('/v1/items:batch', { method: 'POST', body: JSON.stringify({ ops }) }),
      400,
      'invalid-argument',
    )
    const ids = Array.from({ length: 1001 }, (_, i) => `x${i}`)
    await expectProblem(
      await t.app.request('/v1/items:batchGet', { method: 'POST', body: JSON.stringify({ ids }) }),
      400,
      'invalid-argument',
    )
    await expectNothingStored()
  })

  it('a batch body past 2 × maxPayloadBytes + 64 KiB answers 413', async () => {
    const limit = 2 * LIMIT + 64 * 1024
    const res = await t.app.request('/v1/items:batch', {
      method: 'POST',
      body: streamOf(limit + 1, 4096),
      duplex: 'half',
    } as RequestInit)
    await expectProblem(res, 413, 'payload-too-large')
    await expectNothingStored()
  })
})
