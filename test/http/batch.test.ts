import { PROBLEM_TYPE_BASE } from '@sync-engine/http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type HttpTestEngine, openHttpTestEngine } from './support/http-test-engine.ts'

let t: HttpTestEngine

beforeAll(async () => {
  t = await openHttpTestEngine()
})
afterAll(async () => {
  await t.dispose()
})

function post(route: string, body: unknown) {
  return t.app.request(route, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  })
}

interface OpResult {
  id: string | null
  ok: boolean
  version?: number
  error?: { type: string; status: number; code: string }
}

describe('POST /v1/items:batch', () => {
  it('writes JSON and binary items and deletes, in request order; 200 when all succeed', async () => {
    await t.app.request('/v1/items/b-gone', { method: 'PUT', body: 'x' })
    const res = await post('/v1/items:batch', {
      ops: [
        { op: 'put', id: 'b-json', value: { name: 'ada', n: [1, 2] } },
        { op: 'put', id: 'b-bin', base64: 'AAH/gA==', mime: 'image/png' },
        { op: 'put', id: 'b-null', value: null },
        { op: 'delete', id: 'b-gone' },
        // A put then a delete of one id: applied in order, so it ends deleted.
        { op: 'put', id: 'b-flip', value: 1 },
        { op: 'delete', id: 'b-flip' },
      ],
    })
    expect(res.status).toBe(200)
    const { results } = (await res.json()) as { results: OpResult[] }
    expect(results.map((r) => [r.id, r.ok])).toEqual([
      ['b-json', true],
      ['b-bin', true],
      ['b-null', true],
      ['b-gone', true],
      ['b-flip', true],
      ['b-flip', true],
    ])
    for (const r of results) expect(r.version).toEqual(expect.any(Number))

    expect((await t.engine.get('b-json'))?.json()).toEqual({ name: 'ada', n: [1, 2] })
    const bin = await t.engine.get('b-bin')
    expect(bin?.content).toEqual(new Uint8Array([0x00, 0x01, 0xff, 0x80]))
    expect(bin?.mime).toBe('image/png')
    expect(bin?.contentType).toBe('binary')
    expect((await t.engine.get('b-null'))?.text()).toBe('null')
    expect(await t.engine.get('b-gone')).toBeUndefined()
    expect(await t.engine.get('b-flip')).toBeUndefined()
  })

  it('one invalid op fails alone with its problem: the valid ones are stored; 207', async () => {
    const res = await post('/v1/items:batch', {
      ops: [
        { op: 'put', id: 'ok-1', value: { a: 1 } },
        { op: 'put', id: 'bad\u0001id', value: 1 },
        { op: 'put', id: 'ok-2', base64: 'AQID' },
        { op: 'put', id: 'bad-b64', base64: 'not base64!' },
        { op: 'put', id: 'both', value: 1, base64: 'AA==' },
        { op: 'put', id: 'redis-only', value: 1, tiers: ['redis'] },
        { op: 'explode', id: 'x' },
        'not an op',
        { op: 'delete', id: 'ok-1-gone' },
      ],
    })
    expect(res.status).toBe(207)
    const { results } = (await res.json()) as { results: OpResult[] }
    expect(results.map((r) => [r.id, r.ok, r.error?.type.slice(PROBLEM_TYPE_BASE.length)])).toEqual([
      ['ok-1', true, undefined],
      ['bad\u0001id', false, 'invalid-id'],
      ['ok-2', true, undefined],
      ['bad-b64', false, 'invalid-argument'],
      ['both', false, 'invalid-argument'],
      ['redis-only', false, 'no-tier'],
      ['x', false, 'invalid-argument'],
      [null, false, 'invalid-argument'],
      ['ok-1-gone', true, undefined],
    ])
    expect(results[5]?.error?.status).toBe(422)
    expect((await t.engine.get('ok-1'))?.json()).toEqual({ a: 1 })
    expect((await t.engine.get('ok-2'))?.content).toEqual(new Uint8Array([1, 2, 3]))
    for (const id of ['bad-b64', 'both', 'redis-only', 'x']) expect(await t.engine.get(id)).toBeUndefined()
  })

  it('applies per-op ttl, tiers, state and version, and the batch ack', async () => {
    const res = await post('/v1/items:batch', {
      ack: 'queued',
      ops: [
        { op: 'put', id: 'opt-ttl', value: 1, ttl: 30_000 },
        { op: 'put', id: 'opt-state', value: 1, state: 'hot', tiers: 'sql' },
        { op: 'put', id: 'opt-version', value: 1, version: 77 },
      ],
    })
    expect(res.status).toBe(200)
    const { results } = (await res.json()) as { results: OpResult[] }
    expect(results[2]?.version).toBe(77)
    const ttlItem = await t.engine.get('opt-ttl')
    expect(t.engine.l1Snapshot().entries.find((e) => e.id === 'opt-ttl')?.expiresAt).toBe(
      ttlItem!.updatedAt + 30_000,
    )
    expect((await t.engine.get('opt-state'))?.state).toBe('hot')
    expect((await t.engine.get('opt-version'))?.version).toBe(77)
  })

  it('answers 207 even when every op failed', async () => {
    const res = await post('/v1/items:batch', { ops: [{ op: 'put', id: '', value: 1 }] })
    expect(res.status).toBe(207)
    const { results } = (await res.json()) as { results: OpResult[] }
    expect(results).toEqual([
      { id: '', ok: false, error: expect.objectContaining({ code: 'INVALID_ID', status: 400 }) },
    ])
  })
})

describe('POST /v1/items:batchGet', () => {
  beforeAll(async () => {
    await t.app.request('/v1/items/g-json', {
      method: 'PUT',
      body: '{"big": 12345678901234567890, "s": "é\\n"}',
      headers: { 'content-type': 'application/json' },
    })
    await t.app.request('/v1/items/g-bin', {
      method: 'PUT',
      body: new Uint8Array([0, 255, 1]),
      headers: { 'content-type': 'image/png' },
    })
  })

  it('answers every id in request order; an invalid id gets its own error entry', async () => {
    const res = await post('/v1/items:batchGet', { ids: ['g-bin', 'nope', '', 'g-json', 'g-bin'] })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    const text = await res.text()
    const body = JSON.parse(text) as { items: Record<string, unknown>[] }
    const binVersion = (await t.engine.get('g-bin'))!.version
    const jsonVersion = (await t.engine.get('g-json'))!.version
    const binEntry = {
      id: 'g-bin',
      found: true,
      version: binVersion,
      contentType: 'binary',
      mime: 'image/png',
      state: 'default',
      base64: 'AP8B',
    }
    expect(body.items).toEqual([
      binEntry,
      { id: 'nope', found: false },
      { id: '', error: expect.objectContaining({ type: `${PROBLEM_TYPE_BASE}invalid-id`, status: 400 }) },
      {
        id: 'g-json',
        found: true,
        version: jsonVersion,
        contentType: 'json',
        mime: 'application/json',
        state: 'default',
        value: { big: expect.any(Number), s: 'é\n' },
      },
      binEntry,
    ])
    // The JSON value is the stored bytes spliced in: the 20-digit integer is not rounded.
    expect(text).toContain('"value":{"big":12345678901234567890,"s":"é\\n"}')
  })

  it('accepts an empty list', async () => {
    const res = await post('/v1/items:batchGet', { ids: [] })
    expect(await res.json()).toEqual({ items: [] })
  })
})
