import type { SyncEngine } from '@sync-engine/core'
import type { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectProblem } from './support/problem-assertions.ts'
import { openSqliteApp, tempDir } from './support/sqlite-app.ts'

let dir: Awaited<ReturnType<typeof tempDir>>
let engine: SyncEngine
let app: Hono

beforeAll(async () => {
  dir = await tempDir()
  ;({ engine, app } = await openSqliteApp(dir.path))
})
afterAll(async () => {
  await engine.shutdown()
  await dir.remove()
})

const path = (id: string) => `/v1/items/${encodeURIComponent(id)}`

function put(id: string, body: string, headers: Record<string, string> = {}, query = '') {
  return app.request(`${path(id)}${query}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  })
}

function del(id: string, headers: Record<string, string> = {}) {
  return app.request(path(id), { method: 'DELETE', headers })
}

/** Writes `id` unconditionally (stored) and returns its version. */
async function seed(id: string, body = '{"n":0}'): Promise<number> {
  const res = await put(id, body, {}, '?ack=stored')
  expect(res.status).toBe(200)
  return ((await res.json()) as { version: number }).version
}

async function expectUnchanged(id: string, version: number, body: string) {
  const res = await app.request(path(id))
  expect(res.status).toBe(200)
  expect(res.headers.get('etag')).toBe(`"${version}"`)
  expect(await res.text()).toBe(body)
}

describe('If-Match on PUT', () => {
  it('writes when the tag is the current version: 200, a new version, acknowledged stored', async () => {
    const v1 = await seed('match-ok')
    // A conditional write is always `stored`, whatever ack was asked for.
    const res = await put('match-ok', '{"n":1}', { 'if-match': `"${v1}"` }, '?ack=queued')
    expect(res.status).toBe(200)
    expect(res.headers.get('location')).toBeNull()
    const receipt = (await res.json()) as { version: number; ack: string }
    expect(receipt.ack).toBe('stored')
    expect(receipt.version).toBeGreaterThan(v1)
    expect(res.headers.get('etag')).toBe(`"${receipt.version}"`)
    await expectUnchanged('match-ok', receipt.version, '{"n":1}')
  })

  it('answers 412 precondition-failed with the current version when the tag is not current, and writes nothing', async () => {
    const v1 = await seed('match-stale')
    const v2 = await seed('match-stale', '{"n":2}')
    const problem = await expectProblem(
      await put('match-stale', '{"n":3}', { 'if-match': `"${v1}"` }),
      412,
      'precondition-failed',
    )
    expect(problem).toMatchObject({ id: 'match-stale', expectedVersion: v1, currentVersion: v2 })
    await expectUnchanged('match-stale', v2, '{"n":2}')
  })

  it('answers 412 with currentVersion 0 for an id that does not exist', async () => {
    const problem = await expectProblem(
      await put('match-absent', '{"n":1}', { 'if-match': '"12345"' }),
      412,
      'precondition-failed',
    )
    expect(problem).toMatchObject({ id: 'match-absent', expectedVersion: 12345, currentVersion: 0 })
    expect(await engine.get('match-absent')).toBeUndefined()
  })

  it('compares strongly: a weak W/ tag never matches, even of the current version (412, nothing written)', async () => {
    const v1 = await seed('match-weak')
    const problem = await expectProblem(
      await put('match-weak', '{"n":1}', { 'if-match': `W/"${v1}"` }),
      412,
      'precondition-failed',
    )
    expect(problem.id).toBe('match-weak')
    expect(problem.detail).toContain('weak')
    // Nothing was read to answer it, so no current version is claimed.
    expect(problem.currentVersion).toBeUndefined()
    await expectUnchanged('match-weak', v1, '{"n":0}')
  })

  it('takes a list with empty elements around one tag as that tag (RFC 9110 §5.6.1)', async () => {
    const v1 = await seed('match-list')
    expect((await put('match-list', '{"n":1}', { 'if-match': ` , "${v1}" ,` })).status).toBe(200)
  })

  // `"a,b"` is one tag: a comma inside the quotes belongs to it (RFC 9110 etagc).
  it.each([['"0"'], ['"abc"'], ['"99999999999999999999"'], ['"a,b"']])(
    'a tag that is no version this server issues (%s) never matches: 412',
    async (tag) => {
      const v1 = await seed(`match-foreign-${tag}`)
      await expectProblem(
        await put(`match-foreign-${tag}`, '{"n":1}', { 'if-match': tag }),
        412,
        'precondition-failed',
      )
      await expectUnchanged(`match-foreign-${tag}`, v1, '{"n":0}')
    },
  )

  it.each([
    ['*', 'If-Match: * is not supported'],
    ['"1", "2"', 'exactly one entity tag'],
    ['123', 'If-Match must be'],
    ['"unterminated', 'If-Match must be'],
    ['w/"1"', 'If-Match must be'],
    ['"a" "b"', 'If-Match must be'],
    ['', 'If-Match must be'],
    [',', 'If-Match must be'],
  ])(
    'If-Match: %s answers 400 invalid-argument naming the header, and writes nothing',
    async (header, says) => {
      const v1 = await seed('match-bad')
      const problem = await expectProblem(
        await put('match-bad', '{"n":1}', { 'if-match': header }),
        400,
        'invalid-argument',
      )
      expect(problem.detail).toContain(says)
      await expectUnchanged('match-bad', v1, '{"n":0}')
    },
  )
})

describe('If-None-Match: * on PUT (create only)', () => {
  it('creates an absent id (201 with Location), then refuses the second PUT with 412 and the current version', async () => {
    const first = await put('create-only', '{"n":1}', { 'if-none-match': '*' })
    expect(first.status).toBe(201)
    expect(first.headers.get('location')).toBe('/v1/items/create-only')
    const receipt = (await first.json()) as { version: number; ack: string }
    expect(receipt.ack).toBe('stored')

    const second = await put('create-only', '{"n":2}', { 'if-none-match': '*' })
    const problem = await expectProblem(second, 412, 'precondition-failed')
    expect(problem).toMatchObject({ id: 'create-only', expectedVersion: 0, currentVersion: receipt.version })
    await expectUnchanged('create-only', receipt.version, '{"n":1}')
  })

  it('creates again after a delete (a tombstone is no live item)', async () => {
    await seed('recreate')
    expect((await del('recreate')).status).toBe(204)
    expect((await put('recreate', '{"n":9}', { 'if-none-match': '*' })).status).toBe(201)
  })

  it.each([
    [{ 'if-none-match': '"1"' }, 'only *'],
    [{ 'if-none-match': 'nonsense' }, 'If-None-Match must be'],
    [{ 'if-none-match': '*', 'if-match': '"1"' }, 'not both'],
  ])('%o answers 400 invalid-argument', async (headers, says) => {
    const problem = await expectProblem(await put('none-match-bad', '{}', headers), 400, 'invalid-argument')
    expect(problem.detail).toContain(says)
    expect(await engine.get('none-match-bad')).toBeUndefined()
  })
})

describe('If-Match on DELETE', () => {
  it('deletes when the tag is current (204), refuses with 412 and the current version when it is not', async () => {
    const v1 = await seed('del-match')
    const v2 = await seed('del-match', '{"n":2}')
    const refused = await expectProblem(
      await del('del-match', { 'if-match': `"${v1}"` }),
      412,
      'precondition-failed',
    )
    expect(refused).toMatchObject({ id: 'del-match', expectedVersion: v1, currentVersion: v2 })
    await expectUnchanged('del-match', v2, '{"n":2}')

    const deleted = await del('del-match', { 'if-match': `"${v2}"` })
    expect(deleted.status).toBe(204)
    expect(await engine.get('del-match')).toBeUndefined()
  })

  it('refuses a conditional delete of an absent id with 412, currentVersion 0', async () => {
    const problem = await expectProblem(
      await del('del-absent', { 'if-match': '"7"' }),
      412,
      'precondition-failed',
    )
    expect(problem).toMatchObject({ id: 'del-absent', currentVersion: 0 })
  })

  it('refuses If-None-Match, If-Match: * and several tags on DELETE with 400', async () => {
    const v1 = await seed('del-bad')
    const refused: Record<string, string>[] = [
      { 'if-none-match': '*' },
      { 'if-match': '*' },
      { 'if-match': '"1", "2"' },
    ]
    for (const headers of refused) {
      await expectProblem(await del('del-bad', headers), 400, 'invalid-argument')
    }
    await expectUnchanged('del-bad', v1, '{"n":0}')
  })
})

describe('stale versions', () => {
  it('PUT ?version=1&ack=stored over version 2 answers 409 stale-version with the id and currentVersion 2', async () => {
    expect((await put('stale', '{"v":2}', {}, '?version=2&ack=stored')).status).toBe(200)
    const problem = await expectProblem(
      await put('stale', '{"v":1}', {}, '?version=1&ack=stored'),
      409,
      'stale-version',
    )
    expect(problem).toMatchObject({ id: 'stale', version: 1, currentVersion: 2 })
    await expectUnchanged('stale', 2, '{"v":2}')
  })

  it('a stale put in a batch carries the same members in its result', async () => {
    expect((await put('stale-batch', '{"v":5}', {}, '?version=5&ack=stored')).status).toBe(200)
    const res = await app.request('/v1/items:batch', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ack: 'stored',
        ops: [{ op: 'put', id: 'stale-batch', value: { v: 4 }, version: 4 }],
      }),
    })
    expect(res.status).toBe(207)
    const { results } = (await res.json()) as { results: { ok: boolean; error?: Record<string, unknown> }[] }
    expect(results[0]?.error).toMatchObject({ code: 'STALE_VERSION', id: 'stale-batch', currentVersion: 5 })
  })
})
