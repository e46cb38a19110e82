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

const json = (method: string, path: string, body?: unknown) =>
  t.app.request(path, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })

const users = {
  prefix: 'user:',
  fields: {
    plan: { type: 'tag', path: '$.plan' },
    age: { type: 'numeric', path: '$.age', sortable: true },
    bio: { type: 'text', path: '$.bio' },
  },
}

describe('search over HTTP on the embedded default (SQLite)', () => {
  it('defines an index over existing items (201, then 200 unchanged), lists it, and searches it', async () => {
    await json('PUT', '/v1/items/user:ada', { plan: 'pro', age: 36, bio: 'Writes engines' })
    await json('PUT', '/v1/items/user:bob', { plan: 'free', age: 41, bio: 'likes compilers' })
    await json('PUT', '/v1/items/team:ada', { plan: 'pro', age: 1 })
    const created = await json('PUT', '/v1/indexes/users', users)
    expect(created.status, await created.clone().text()).toBe(201)
    expect(await created.json()).toMatchObject({ name: 'users', prefix: 'user:' })
    expect((await json('PUT', '/v1/indexes/users', users)).status).toBe(200)
    const status = await t.app.request('/v1/indexes/users')
    expect(await status.json()).toMatchObject({ name: 'users', prefix: 'user:', state: 'ready' })
    await expectProblem(await t.app.request('/v1/indexes/nope'), 404, 'not-found')
    const listed = (await (await t.app.request('/v1/indexes')).json()) as { indexes: { name: string }[] }
    expect(listed.indexes.map((index) => index.name)).toEqual(['users'])

    const found = await json('POST', '/v1/search', {
      index: 'users',
      query: { eq: { field: 'plan', value: 'pro' } },
      values: true,
    })
    expect(found.status).toBe(200)
    const body = (await found.json()) as {
      items: { id: string; version: number; value: unknown }[]
      cursor: unknown
    }
    expect(body.cursor).toBeNull()
    expect(body.items.map((item) => [item.id, item.value])).toEqual([
      ['user:ada', { plan: 'pro', age: 36, bio: 'Writes engines' }],
    ])
    expect(body.items[0]!.version).toBe((await t.engine.get('user:ada'))!.version)
  })

  it('sees a write acknowledged just before (read your writes), and a delete', async () => {
    await t.app.request('/v1/items/user:cy?ack=queued', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ plan: 'pro', age: 29, bio: 'engines too' }),
    })
    const text = {
      index: 'users',
      query: { text: { terms: 'ENGINES' } },
      sort: { field: 'age', order: 'asc' },
    }
    const ids = async () =>
      ((await (await json('POST', '/v1/search', text)).json()) as { items: { id: string }[] }).items.map(
        (i) => i.id,
      )
    expect(await ids()).toEqual(['user:cy', 'user:ada'])
    await t.app.request('/v1/items/user:cy', { method: 'DELETE' })
    expect(await ids()).toEqual(['user:ada'])
  })

  it('pages with an opaque cursor, null on the last page', async () => {
    for (let n = 0; n < 5; n++) await json('PUT', `/v1/items/user:p${n}`, { plan: 'paged', age: n })
    const query = {
      index: 'users',
      query: { eq: { field: 'plan', value: 'paged' } },
      sort: { field: 'age', order: 'desc' },
      limit: 2,
    }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page = (await (
        await json('POST', '/v1/search', { ...query, ...(cursor && { cursor }) })
      ).json()) as {
        items: { id: string }[]
        cursor: string | null
      }
      seen.push(...page.items.map((item) => item.id))
      cursor = page.cursor
    } while (cursor)
    expect(seen).toEqual(['user:p4', 'user:p3', 'user:p2', 'user:p1', 'user:p0'])
  })

  it('answers bad definitions and queries with 400 problems naming the member; an unknown index 404', async () => {
    const badField = await expectProblem(
      await json('POST', '/v1/search', { index: 'users', query: { eq: { field: 'agee', value: 1 } } }),
      400,
      'invalid-argument',
    )
    expect(badField.detail).toContain('query.eq.field')
    const badLimit = await expectProblem(
      await json('POST', '/v1/search', {
        index: 'users',
        query: { eq: { field: 'plan', value: 'x' } },
        limit: 0,
      }),
      400,
      'invalid-argument',
    )
    expect(badLimit.detail).toContain('limit')
    const badType = await expectProblem(
      await json('PUT', '/v1/indexes/bad', { prefix: '', fields: { a: { type: 'geo', path: '$.a' } } }),
      400,
      'invalid-argument',
    )
    expect(badType.detail).toContain('fields.a.type')
    await expectProblem(
      await json('POST', '/v1/search', { index: 'nope', query: { eq: { field: 'plan', value: 'x' } } }),
      404,
      'not-found',
    )
    await expectProblem(
      await json('POST', '/v1/search', {
        index: 'users',
        query: { eq: { field: 'plan', value: 'x' } },
        cursor: 'bogus',
      }),
      400,
      'invalid-argument',
    )
  })

  it('drops an index (204); it is gone for search and from the list', async () => {
    expect((await t.app.request('/v1/indexes/users', { method: 'DELETE' })).status).toBe(204)
    await expectProblem(await t.app.request('/v1/indexes/users', { method: 'DELETE' }), 404, 'not-found')
    expect(((await (await t.app.request('/v1/indexes')).json()) as { indexes: unknown[] }).indexes).toEqual(
      [],
    )
  })
})

describe('listing items by prefix and state (GET /v1/items)', () => {
  it('lists live items under a literal prefix in id order, a page at a time, with their state', async () => {
    for (const id of ['ls:%a', 'ls:_b', 'ls:c', 'ls:d', 'lsx:e']) {
      await t.app.request(
        `/v1/items/${encodeURIComponent(id)}?state=${id === 'ls:d' ? 'archived' : 'live'}`,
        {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        },
      )
    }
    await t.app.request(`/v1/items/${encodeURIComponent('ls:c')}`, { method: 'DELETE' })
    const page = async (query: string) =>
      (await (await t.app.request(`/v1/items?${query}`)).json()) as {
        items: { id: string; version: number; state: string }[]
        cursor: string | null
      }
    const first = await page('prefix=ls%3A&limit=2')
    expect(first.items.map((item) => item.id)).toEqual(['ls:%a', 'ls:_b'])
    const second = await page(`prefix=ls%3A&limit=2&cursor=${first.cursor}`)
    expect(second.items.map((item) => [item.id, item.state])).toEqual([['ls:d', 'archived']])
    expect(second.cursor).toBeNull()
    expect((await page('prefix=ls%3A%25')).items.map((item) => item.id)).toEqual(['ls:%a'])
    expect((await page('prefix=ls%3A&state=live')).items.map((item) => item.id)).toEqual(['ls:%a', 'ls:_b'])
  })

  it('refuses an unknown parameter, a bad limit and a cursor of another listing with 400 problems', async () => {
    await expectProblem(await t.app.request('/v1/items?prefx=ls'), 400, 'invalid-argument')
    await expectProblem(await t.app.request('/v1/items?limit=0'), 400, 'invalid-argument')
    const first = (await (await t.app.request('/v1/items?prefix=ls%3A&limit=1')).json()) as { cursor: string }
    await expectProblem(
      await t.app.request(`/v1/items?prefix=lsx&cursor=${first.cursor}`),
      400,
      'invalid-argument',
    )
  })
})

describe('bulk delete by prefix (DELETE /v1/items?prefix=…&confirm=true)', () => {
  it('deletes nothing without confirm=true; with it, every live item under the prefix, counted', async () => {
    for (const id of ['bulk:1', 'bulk:2', 'bulk:3', 'bulkx:keep']) {
      await t.app.request(`/v1/items/${id}?state=${id === 'bulk:3' ? 'old' : 'new'}`, {
        method: 'PUT',
        body: '1',
        headers: { 'content-type': 'application/json' },
      })
    }
    await expectProblem(
      await t.app.request('/v1/items?prefix=bulk%3A', { method: 'DELETE' }),
      400,
      'invalid-argument',
    )
    expect((await t.engine.get('bulk:1'))?.text()).toBe('1')
    const byState = await t.app.request('/v1/items?prefix=bulk%3A&state=old&confirm=true', {
      method: 'DELETE',
    })
    expect(await byState.json()).toEqual({ deleted: 1, more: false })
    // A bounded step: at most `limit`, and whether items are left.
    const step = await t.app.request('/v1/items?prefix=bulk%3A&confirm=true&limit=1', { method: 'DELETE' })
    expect(await step.json()).toEqual({ deleted: 1, more: true })
    await expectProblem(
      await t.app.request('/v1/items?prefix=bulk%3A&confirm=true&limit=0', { method: 'DELETE' }),
      400,
      'invalid-argument',
    )
    const rest = await t.app.request('/v1/items?prefix=bulk%3A&confirm=true', { method: 'DELETE' })
    expect(await rest.json()).toEqual({ deleted: 1, more: false })
    expect(await t.engine.get('bulk:2')).toBeUndefined()
    expect((await t.engine.get('bulkx:keep'))?.text()).toBe('1')
    // A write after the bulk delete outlives it.
    await t.app.request('/v1/items/bulk:1', {
      method: 'PUT',
      body: '2',
      headers: { 'content-type': 'application/json' },
    })
    expect((await t.engine.get('bulk:1'))?.text()).toBe('2')
  })
})

describe('state tags: count and set', () => {
  it('counts live items by prefix and state, and moves an item to another state as a new version', async () => {
    for (const id of ['st:1', 'st:2', 'st:3']) {
      await t.app.request(`/v1/items/${id}?state=todo`, {
        method: 'PUT',
        body: `{"id":"${id}"}`,
        headers: { 'content-type': 'application/json' },
      })
    }
    const count = async (query: string) =>
      ((await (await t.app.request(`/v1/items:count?${query}`)).json()) as { count: number }).count
    expect(await count('prefix=st%3A&state=todo')).toBe(3)
    const before = (await t.engine.get('st:2'))!
    const receipt = await t.engine.setState('st:2', 'done')
    expect(receipt.version).toBeGreaterThan(before.version)
    const after = (await t.engine.get('st:2'))!
    expect([after.state, after.text()]).toEqual(['done', '{"id":"st:2"}'])
    expect(await count('prefix=st%3A&state=todo')).toBe(2)
    expect(await count('prefix=st%3A&state=done')).toBe(1)
    expect(await count('prefix=st%3A')).toBe(3)
    await expect(t.engine.setState('st:none', 'done')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expectProblem(await t.app.request('/v1/items:count?prefix=st&cursor=x'), 400, 'invalid-argument')
  })
})
