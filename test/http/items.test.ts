import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type HttpTestEngine, openHttpTestEngine } from './support/http-test-engine.ts'
import { expectProblem } from './support/problem-assertions.ts'

let t: HttpTestEngine

beforeAll(async () => {
  t = await openHttpTestEngine()
})
afterAll(async () => {
  await t.dispose()
})

const path = (id: string) => `/v1/items/${encodeURIComponent(id)}`

function put(id: string, body: RequestInit['body'], contentType?: string, query = '') {
  const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType }
  return t.app.request(`${path(id)}${query}`, { method: 'PUT', body, headers })
}

/** A PNG signature plus bytes a text decoder would mangle: 0x00, 0xFF and an invalid UTF-8 run. */
const BINARY = new Uint8Array([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0xc3, 0x28, 0x00, 0xff,
])

describe('PUT / GET / DELETE round trips', () => {
  it('stores a JSON item and returns its normalised bytes as application/json', async () => {
    const sent = '{ "name" : "ada", "tags": [ 1, 2 ], "big": 12345678901234567890 }'
    const created = await put('json-1', sent, 'application/json')
    // 200, not 201: this engine (not L3's single writer) cannot know without a read that the id
    // is new, and a PUT reads nothing (201 is covered in put-receipts.test.ts).
    expect(created.status).toBe(200)
    expect(created.headers.get('content-type')).toBe('application/json')
    const receipt = (await created.json()) as { id: string; version: number; ack: string }
    // The Node server has a write-ahead log: the default ack is `logged`.
    expect(receipt).toEqual({ id: 'json-1', version: expect.any(Number), ack: 'logged' })
    expect(created.headers.get('etag')).toBe(`"${receipt.version}"`)
    expect(created.headers.get('location')).toBeNull()

    const got = await t.app.request(path('json-1'))
    expect(got.status).toBe(200)
    expect(got.headers.get('content-type')).toBe('application/json')
    expect(got.headers.get('etag')).toBe(`"${receipt.version}"`)
    // Whitespace is normalised away; every token, the 20-digit integer included, is kept as sent.
    expect(await got.text()).toBe('{"name":"ada","tags":[1,2],"big":12345678901234567890}')
    expect((await t.engine.get('json-1'))?.contentType).toBe('json')
  })

  it('treats any +json media type as JSON and returns the Content-Type as sent', async () => {
    const type = 'application/vnd.api+json; charset=utf-8'
    expect((await put('json-suffix', '[1, 2]', type)).status).toBe(200)
    const got = await t.app.request(path('json-suffix'))
    expect(got.headers.get('content-type')).toBe(type)
    expect(await got.text()).toBe('[1,2]')
    expect((await t.engine.get('json-suffix'))?.contentType).toBe('json')
  })

  it('stores a binary item byte for byte with its Content-Type', async () => {
    expect((await put('png-1', BINARY, 'image/png')).status).toBe(200)
    const got = await t.app.request(path('png-1'))
    expect(got.status).toBe(200)
    expect(got.headers.get('content-type')).toBe('image/png')
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(BINARY)
    expect((await t.engine.get('png-1'))?.contentType).toBe('binary')
  })

  it('keeps JSON-looking bytes sent as a non-JSON type exactly (no detection, no normalising)', async () => {
    const sent = '{ "looks": "like json" }'
    expect((await put('text-1', sent, 'text/plain')).status).toBe(200)
    const got = await t.app.request(path('text-1'))
    expect(await got.text()).toBe(sent)
    expect(got.headers.get('content-type')).toBe('text/plain')
    expect((await t.engine.get('text-1'))?.contentType).toBe('binary')
  })

  it('defaults a body without Content-Type to application/octet-stream', async () => {
    expect((await put('untyped', new Uint8Array([1, 2, 3]))).status).toBe(200)
    const got = await t.app.request(path('untyped'))
    expect(got.headers.get('content-type')).toBe('application/octet-stream')
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]))
  })

  it('answers 200 with a higher version and a new ETag when the id is written again', async () => {
    const first = await put('versioned', '{"n":1}', 'application/json')
    expect(first.status).toBe(200)
    const v1 = ((await first.json()) as { version: number }).version
    const second = await put('versioned', '{"n":2}', 'application/json')
    expect(second.status).toBe(200)
    expect(second.headers.get('location')).toBeNull()
    const v2 = ((await second.json()) as { version: number }).version
    expect(v2).toBeGreaterThan(v1)
    expect(second.headers.get('etag')).toBe(`"${v2}"`)
    expect(await (await t.app.request(path('versioned'))).text()).toBe('{"n":2}')
  })

  it('DELETE answers 204, then GET answers 404 not-found', async () => {
    await put('doomed', 'bytes', 'text/plain')
    const deleted = await t.app.request(path('doomed'), { method: 'DELETE' })
    expect(deleted.status).toBe(204)
    // No body, so no Content-Type or Content-Length either.
    expect([...deleted.headers]).toEqual([])
    expect(await deleted.text()).toBe('')
    await expectProblem(await t.app.request(path('doomed')), 404, 'not-found')
    expect(await t.engine.get('doomed')).toBeUndefined()
  })

  it('round-trips ids with a slash, a percent sign and non-ASCII characters', async () => {
    for (const id of ['users/42', '100%', 'café ☕', 'a?b#c']) {
      expect((await put(id, id, 'text/plain')).status).toBe(200)
      const got = await t.app.request(path(id))
      expect(await got.text()).toBe(id)
      expect((await t.engine.get(id))?.text()).toBe(id)
    }
  })
})

describe('ETag and If-None-Match', () => {
  let etag: string

  beforeAll(async () => {
    etag = (await put('cached', '{"v":1}', 'application/json')).headers.get('etag')!
  })

  it('answers 304 with the ETag and no body for the current tag', async () => {
    const res = await t.app.request(path('cached'), { headers: { 'if-none-match': etag } })
    expect(res.status).toBe(304)
    expect(res.headers.get('etag')).toBe(etag)
    expect(await res.text()).toBe('')
  })

  it('a 304 carries exactly ETag and Cache-Control: no Content-Type or Content-Length of its own', async () => {
    const res = await t.app.request(path('cached'), { headers: { 'if-none-match': etag } })
    expect(res.status).toBe(304)
    expect(Object.fromEntries(res.headers)).toEqual({ etag, 'cache-control': 'no-cache' })
  })

  it('matches *, a list of tags and a weak W/ tag', async () => {
    for (const header of ['*', `"1", ${etag}`, `W/${etag}`, `"x",W/${etag} , "y"`]) {
      const res = await t.app.request(path('cached'), { headers: { 'if-none-match': header } })
      expect(res.status, header).toBe(304)
    }
  })

  it('answers 200 with the body when no listed tag is current', async () => {
    const res = await t.app.request(path('cached'), { headers: { 'if-none-match': '"1", W/"2"' } })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('{"v":1}')
  })

  it('answers 200 again after a new version is written', async () => {
    await put('cached', '{"v":2}', 'application/json')
    const res = await t.app.request(path('cached'), { headers: { 'if-none-match': etag } })
    expect(res.status).toBe(200)
    expect(res.headers.get('etag')).not.toBe(etag)
    expect(await res.text()).toBe('{"v":2}')
  })

  it('answers 404 for a missing item even with If-None-Match: *', async () => {
    await expectProblem(
      await t.app.request(path('never'), { headers: { 'if-none-match': '*' } }),
      404,
      'not-found',
    )
  })

  it('serves HEAD with the headers of GET, Content-Length included, and no body', async () => {
    const get = await t.app.request(path('cached'))
    const bytes = new Uint8Array(await get.arrayBuffer()).byteLength
    expect(get.headers.get('content-length')).toBe(String(bytes))
    const res = await t.app.request(path('cached'), { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.headers.get('etag')).toMatch(/^"\d+"$/)
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(res.headers.get('content-length')).toBe(String(bytes))
    expect(Object.fromEntries(res.headers)).toEqual(Object.fromEntries(get.headers))
    expect(await res.text()).toBe('')
  })

  it('counts Content-Length in bytes, not characters', async () => {
    await put('utf8-length', 'café ☕', 'text/plain; charset=utf-8')
    const res = await t.app.request(path('utf8-length'), { method: 'HEAD' })
    expect(res.headers.get('content-length')).toBe(String(new TextEncoder().encode('café ☕').byteLength))
  })
})

describe('routing options in the query', () => {
  it('ttl sets the L1 expiry to the write time plus ttl ms', async () => {
    // Queued, so the read below is served from the write itself and brings it into L1 with its TTL.
    expect((await put('ttl-1', 'x', 'text/plain', '?ttl=60000&ack=queued')).status).toBe(200)
    const item = await t.engine.get('ttl-1')
    const entry = t.engine.l1Snapshot().entries.find((e) => e.id === 'ttl-1')
    expect(entry?.expiresAt).toBe(item!.updatedAt + 60_000)
  })

  it('tiers=redis on an engine without Redis answers 422 no-tier and stores nothing', async () => {
    await expectProblem(await put('redis-only', 'x', 'text/plain', '?tiers=redis'), 422, 'no-tier')
    expect(await t.engine.get('redis-only')).toBeUndefined()
  })

  it('tiers=sql and tiers=redis,sql store in SQL', async () => {
    expect((await put('sql-only', 'x', 'text/plain', '?tiers=sql&ack=stored')).status).toBe(200)
    expect((await put('both', 'x', 'text/plain', '?tiers=redis,sql&ack=stored')).status).toBe(200)
    for (const id of ['sql-only', 'both']) {
      expect(await t.engine.status(id)).toMatchObject({ kind: 'synced', l3: true })
    }
  })

  it('ack=queued is reported back as queued; ack=stored as stored', async () => {
    const queued = await put('ack-q', 'x', 'text/plain', '?ack=queued')
    expect(((await queued.json()) as { ack: string }).ack).toBe('queued')
    const stored = await put('ack-s', 'x', 'text/plain', '?ack=stored')
    expect(((await stored.json()) as { ack: string }).ack).toBe('stored')
  })

  it('state tags the item', async () => {
    await put('tagged', 'x', 'text/plain', '?state=archived')
    expect((await t.engine.get('tagged'))?.state).toBe('archived')
  })

  it('version sets a caller-owned version, echoed in the body and the ETag', async () => {
    const res = await put('own-version', 'x', 'text/plain', '?version=42')
    expect(((await res.json()) as { version: number }).version).toBe(42)
    expect(res.headers.get('etag')).toBe('"42"')
    expect((await t.engine.get('own-version'))?.version).toBe(42)
  })

  it.each([
    ['ttl=0'],
    ['ttl=abc'],
    ['ttl=1.5'],
    ['ttl=999999999999999'],
    ['tiers='],
    ['tiers=disk'],
    ['tiers=sql,sql'],
    ['ack=maybe'],
    ['version=-1'],
    ['version=0'],
    ['state='],
    ['tll=1000'],
    ['ttl=1000&ttl=2000'],
  ])('?%s answers 400 invalid-argument and stores nothing', async (query) => {
    const id = `bad-query-${query}`
    await expectProblem(await put(id, 'x', 'text/plain', `?${query}`), 400, 'invalid-argument')
    expect(await t.engine.get(id)).toBeUndefined()
  })

  it('DELETE accepts ack and refuses other parameters', async () => {
    await put('del-ack', 'x', 'text/plain')
    await expectProblem(
      await t.app.request(`${path('del-ack')}?ttl=5`, { method: 'DELETE' }),
      400,
      'invalid-argument',
    )
    expect(await t.engine.get('del-ack')).toBeDefined()
    expect((await t.app.request(`${path('del-ack')}?ack=stored`, { method: 'DELETE' })).status).toBe(204)
    expect(await t.engine.get('del-ack')).toBeUndefined()
  })
})

describe('status, stats and flush', () => {
  it('status reports a stored item as synced in L3 (and in L1 once read), and a missing one as missing', async () => {
    const receipt = (await (await put('status-1', 'x', 'text/plain', '?ack=stored')).json()) as {
      version: number
    }
    const synced = { kind: 'synced', version: receipt.version, l2: false, l3: true }
    const status = await t.app.request(`${path('status-1')}/status`)
    expect(status.status).toBe(200)
    // Writes go around L1: a stored write is in L3; the first read brings it into L1.
    expect(await status.json()).toEqual({ ...synced, l1: false })
    expect((await t.app.request(path('status-1'))).status).toBe(200)
    expect(await (await t.app.request(`${path('status-1')}/status`)).json()).toEqual({ ...synced, l1: true })
    expect(await (await t.app.request(`${path('nobody')}/status`)).json()).toEqual({ kind: 'missing' })
  })

  it('stats answers the engine health report', async () => {
    const res = await t.app.request('/v1/stats')
    expect(res.status).toBe(200)
    const health = (await res.json()) as { state: string; l3: { ok: boolean; driver: string } }
    expect(health.state).toBe('ready')
    expect(health.l3).toMatchObject({ ok: true, driver: 'better-sqlite3' })
  })
})

describe('queued writes and POST /v1/admin/flush', () => {
  let slow: HttpTestEngine

  beforeAll(async () => {
    // A batch window far longer than the test: queued writes stay queued until flushed.
    slow = await openHttpTestEngine({ batchFlushMs: 60_000 })
  })
  afterAll(async () => {
    await slow.dispose()
  })

  it('a queued write is pending until the flush, then synced in L3', async () => {
    const res = await slow.app.request('/v1/items/later?ack=queued', { method: 'PUT', body: 'x' })
    const { version } = (await res.json()) as { version: number }
    expect(await (await slow.app.request('/v1/items/later/status')).json()).toEqual({
      kind: 'pending',
      version,
      deleted: false,
    })
    // Read your writes: the pending item is served before the flush.
    expect(await (await slow.app.request('/v1/items/later')).text()).toBe('x')

    const flushed = await slow.app.request('/v1/admin/flush', { method: 'POST' })
    expect(flushed.status).toBe(200)
    expect(await flushed.json()).toEqual({ written: 1, pending: 0 })
    expect(await (await slow.app.request('/v1/items/later/status')).json()).toMatchObject({
      kind: 'synced',
      version,
      l3: true,
    })
  })
})
