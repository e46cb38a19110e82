import { join } from 'node:path'
import type { SyncEngine } from '@sync-engine/core'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { FlakyL3 } from '../support/flaky-l3.ts'
import { openSqliteApp, type SqliteApp, tempDir } from './support/sqlite-app.ts'

/** Breakers that open on the first failure and probe again soon: outages play out quickly. */
const FAST_BREAKERS = { l3: { failureThreshold: 1, openMs: 20, maxOpenMs: 20 } }

let dir: Awaited<ReturnType<typeof tempDir>>
const open: SyncEngine[] = []

beforeAll(async () => {
  dir = await tempDir()
})
afterEach(async () => {
  for (const engine of open.splice(0)) await engine.shutdown()
})
afterAll(async () => {
  await dir.remove()
})

const put = (app: SqliteApp['app'], id: string, body: string, query = '') =>
  app.request(`/v1/items/${encodeURIComponent(id)}${query}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': 'application/json' },
  })

describe('PUT /v1/items/:id reads nothing first', () => {
  it('is accepted (logged, parked) while L3 is unreachable, like the batch route', async () => {
    const t = await openSqliteApp(join(dir.path, 'outage'), {
      wrapL3: (store) => new FlakyL3(store),
      breakers: FAST_BREAKERS,
    })
    open.push(t.engine)
    const contains = vi.spyOn(t.engine, 'contains')
    const get = vi.spyOn(t.engine, 'get')
    t.l3.down = true

    const res = await put(t.app, 'during-outage', '{"n":1}')
    expect(res.status, await res.clone().text()).toBe(200)
    const receipt = (await res.json()) as { id: string; version: number; ack: string }
    expect(receipt).toEqual({ id: 'during-outage', version: expect.any(Number), ack: 'logged' })
    expect(res.headers.get('etag')).toBe(`"${receipt.version}"`)
    // The status says nothing of existence that the engine does not know: no read was made.
    expect(res.headers.get('location')).toBeNull()
    expect(contains).not.toHaveBeenCalled()
    expect(get).not.toHaveBeenCalled()

    // The batch route accepts the same write the same way.
    const batch = await t.app.request('/v1/items:batch', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ops: [{ op: 'put', id: 'batched-during-outage', value: { n: 2 } }] }),
    })
    expect(batch.status).toBe(200)

    // Read your writes while L3 is still down: served from the queue or the log.
    const back = await t.app.request('/v1/items/during-outage')
    expect(back.status).toBe(200)
    expect(await back.text()).toBe('{"n":1}')
    expect(back.headers.get('etag')).toBe(`"${receipt.version}"`)

    t.l3.down = false
  })

  it('answers 201 with Location when the receipt says the write created the item, else 200', async () => {
    // L3's single writer: the trusted existence filter proves a new id absent without I/O.
    const t = await openSqliteApp(join(dir.path, 'single-writer'), { config: { l3SingleWriter: true } })
    open.push(t.engine)
    const first = await put(t.app, 'users/new', '{"n":1}', '?ack=stored')
    expect(first.status).toBe(201)
    expect(first.headers.get('location')).toBe('/v1/items/users%2Fnew')
    expect(first.headers.get('etag')).toMatch(/^"\d+"$/)
    const again = await put(t.app, 'users/new', '{"n":2}', '?ack=queued')
    expect(again.status).toBe(200)
    expect(again.headers.get('location')).toBeNull()
  })

  it('answers 200 without Location for a new id when only a read could tell (not the single writer)', async () => {
    const t = await openSqliteApp(join(dir.path, 'shared'))
    open.push(t.engine)
    const contains = vi.spyOn(t.engine, 'contains')
    const res = await put(t.app, 'brand-new', '{"n":1}')
    expect(res.status).toBe(200)
    expect(res.headers.get('location')).toBeNull()
    expect(contains).not.toHaveBeenCalled()
  })
})
