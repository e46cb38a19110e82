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

const post = (body: string) =>
  t.app.request('/v1/partitions', { method: 'POST', headers: { 'content-type': 'application/json' }, body })

describe('partitions over HTTP on the embedded default (SQLite)', () => {
  it('registers a prefix (201, then 200), lists it, and serves items under it', async () => {
    const created = await post(JSON.stringify({ prefix: 'tenant/a/' }))
    expect(created.status, await created.clone().text()).toBe(201)
    const partition = (await created.json()) as { prefix: string; table: string }
    expect(partition.prefix).toBe('tenant/a/')
    expect((await post(JSON.stringify({ prefix: 'tenant/a/' }))).status).toBe(200)
    const listed = (await (await t.app.request('/v1/partitions')).json()) as { partitions: unknown[] }
    expect(listed.partitions).toEqual([partition])
    const put = await t.app.request('/v1/items/tenant%2Fa%2F1?ack=stored', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"n":1}',
    })
    expect(put.ok).toBe(true)
    expect(await (await t.app.request('/v1/items/tenant%2Fa%2F1')).json()).toEqual({ n: 1 })
  })

  it('answers 409 for a prefix whose ids are stored, 400 for a bad body', async () => {
    await t.app.request('/v1/items/old:1?ack=stored', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"n":1}',
    })
    await expectProblem(await post(JSON.stringify({ prefix: 'old:' })), 409, 'conflict')
    await expectProblem(await post(JSON.stringify({ prefix: '' })), 400, 'invalid-argument')
    await expectProblem(await post(JSON.stringify({ prefix: 7 })), 400, 'invalid-argument')
    await expectProblem(await post('{"prefix":'), 400, 'invalid-json')
  })
})
