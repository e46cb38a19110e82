import { constantTimeEqual, matchesAnyToken } from '@sync-engine/http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capturingLogger } from './support/capturing-logger.ts'
import { type HttpTestEngine, openHttpTestEngine } from './support/http-test-engine.ts'
import { expectProblem } from './support/problem-assertions.ts'

const TOKEN_A = 'alpha-token-0123456789'
const TOKEN_B = 'bravo-token-9876543210'
const logger = capturingLogger()

let t: HttpTestEngine

beforeAll(async () => {
  t = await openHttpTestEngine({ apiTokens: [TOKEN_A, TOKEN_B] }, logger)
})
afterAll(async () => {
  await t.dispose()
})

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('bearer tokens', () => {
  it('a request without a token answers 401 unauthorized with WWW-Authenticate: Bearer and stores nothing', async () => {
    const res = await t.app.request('/v1/items/no-token', { method: 'PUT', body: 'x' })
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="sync-engine"')
    await expectProblem(res, 401, 'unauthorized')
    expect(await t.engine.get('no-token')).toBeUndefined()
  })

  it.each([
    ['a wrong token', 'Bearer wrong-token-0123456789'],
    ['a prefix of a real token', `Bearer ${TOKEN_A.slice(0, -1)}`],
    ['a real token plus one character', `Bearer ${TOKEN_A}x`],
    ['two tokens glued together', `Bearer ${TOKEN_A}${TOKEN_B}`],
  ])('%s answers 401 invalid_token and stores nothing', async (_name, authorization) => {
    const res = await t.app.request('/v1/items/bad-token', {
      method: 'PUT',
      body: 'x',
      headers: { authorization },
    })
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="sync-engine", error="invalid_token"')
    await expectProblem(res, 401, 'unauthorized')
    expect(await t.engine.get('bad-token')).toBeUndefined()
  })

  it.each([
    ['another scheme', `Basic ${TOKEN_A}`],
    ['no scheme', TOKEN_A],
    ['an empty bearer', 'Bearer '],
  ])('%s answers 401 as a missing token', async (_name, authorization) => {
    await expectProblem(await t.app.request('/v1/stats', { headers: { authorization } }), 401, 'unauthorized')
  })

  it('accepts every configured token, with the scheme in any case', async () => {
    expect(
      (await t.app.request('/v1/items/with-a', { method: 'PUT', body: 'a', headers: bearer(TOKEN_A) }))
        .status,
    ).toBe(200)
    expect((await t.app.request('/v1/items/with-a', { headers: bearer(TOKEN_B) })).status).toBe(200)
    expect(
      (await t.app.request('/v1/stats', { headers: { authorization: `bearer ${TOKEN_B}` } })).status,
    ).toBe(200)
  })

  it('protects every route but the probes, unknown routes included (they are not revealed)', async () => {
    for (const [method, route] of [
      ['GET', '/v1/stats'],
      ['POST', '/v1/admin/flush'],
      ['GET', '/v1/items/with-a/status'],
      ['POST', '/v1/items:batchGet'],
      ['POST', '/v1/items:batch'],
      ['DELETE', '/v1/items/with-a'],
      ['GET', '/no/such/route'],
    ] as const) {
      await expectProblem(await t.app.request(route, { method }), 401, 'unauthorized')
    }
    expect(await t.engine.get('with-a')).toBeDefined()
  })

  it('/health and /ready answer without a token', async () => {
    const health = await t.app.request('/health')
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    const ready = await t.app.request('/ready')
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ state: 'ready', l3: { ok: true } })
  })

  it('logs each request (method, path, status) and never a token or the Authorization header', async () => {
    logger.entries.length = 0
    await t.app.request('/v1/items/logged', { method: 'PUT', body: 'x', headers: bearer(TOKEN_A) })
    await t.app.request('/v1/items/logged', { headers: bearer('not-the-token-at-all') })
    expect(logger.entries.map((e) => e.fields)).toEqual([
      { method: 'PUT', path: '/v1/items/logged', status: 200, durationMs: expect.any(Number) },
      { method: 'GET', path: '/v1/items/logged', status: 401, durationMs: expect.any(Number) },
    ])
    const text = logger.text()
    for (const secret of [TOKEN_A, TOKEN_B, 'not-the-token-at-all']) expect(text).not.toContain(secret)
    expect(text.toLowerCase()).not.toContain('authorization')
  })
})

describe('constant-time comparison', () => {
  const bytes = (s: string) => new TextEncoder().encode(s)

  it('is true only for identical bytes', () => {
    expect(constantTimeEqual(bytes('secret-token'), bytes('secret-token'))).toBe(true)
    expect(constantTimeEqual(bytes('secret-tokeN'), bytes('secret-token'))).toBe(false)
    expect(constantTimeEqual(bytes('secret-toke'), bytes('secret-token'))).toBe(false)
    expect(constantTimeEqual(bytes('secret-token!'), bytes('secret-token'))).toBe(false)
    expect(constantTimeEqual(bytes(''), bytes('secret-token'))).toBe(false)
    expect(constantTimeEqual(bytes(''), bytes(''))).toBe(true)
    // Same UTF-16 length, different UTF-8 bytes.
    expect(constantTimeEqual(bytes('é'), bytes('e'))).toBe(false)
    // A shorter input padded with zero bytes must not equal it.
    expect(constantTimeEqual(bytes('ab'), new Uint8Array([0x61, 0x62, 0]))).toBe(false)
  })

  it('matches any of several tokens, wherever it is in the list', () => {
    const tokens = ['one-token', 'two-token', 'three-token'].map(bytes)
    expect(matchesAnyToken(bytes('one-token'), tokens)).toBe(true)
    expect(matchesAnyToken(bytes('three-token'), tokens)).toBe(true)
    expect(matchesAnyToken(bytes('four-token'), tokens)).toBe(false)
    expect(matchesAnyToken(bytes('one-token'), [])).toBe(false)
  })
})
