import { type SyncEngine, SyncItem } from '@sync-engine/core'
import type { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capturingLogger } from './support/capturing-logger.ts'
import { type HttpTestEngine, openHttpTestEngine } from './support/http-test-engine.ts'

/**
 * An L1 hit is answered without a promise: `app.fetch` returns the Response itself, so the Node
 * server writes it out at once (a promise chain through Hono and the server cost more than the
 * lookup). A miss and a verified read take the promise, as before.
 */
const logger = capturingLogger()
let t: HttpTestEngine
let engine: SyncEngine
let app: Hono

beforeAll(async () => {
  t = await openHttpTestEngine({}, logger)
  ;({ engine, app } = t)
})
afterAll(() => t.dispose())

const fetchOf = (path: string, init?: RequestInit) => app.fetch(new Request(`http://localhost${path}`, init))

describe('GET of an item L1 holds', () => {
  it('is answered synchronously, with the bytes, ETag and a request line in the log', async () => {
    const receipt = await engine.submit(SyncItem.fromJson('hot', { n: 1 }), { ack: 'stored' })
    // Writes go around L1: the first read admits the item.
    expect((await fetchOf('/v1/items/hot')).status).toBe(200)
    const before = logger.entries.length
    const answer = fetchOf('/v1/items/hot')
    expect(answer).toBeInstanceOf(Response)
    const response = answer as Response
    expect(response.status).toBe(200)
    expect(response.headers.get('etag')).toBe(`"${receipt.version}"`)
    expect(await response.json()).toEqual({ n: 1 })
    expect(logger.entries.slice(before)).toEqual([
      {
        level: 'info',
        fields: { method: 'GET', path: '/v1/items/hot', status: 200, durationMs: expect.any(Number) },
        message: 'request',
      },
    ])
    const notModified = fetchOf('/v1/items/hot', { headers: { 'if-none-match': `"${receipt.version}"` } })
    expect(notModified).toBeInstanceOf(Response)
    expect((notModified as Response).status).toBe(304)
  })

  it('of a deleted id L1 knows is a synchronous 404; a miss and a verified read take the promise', async () => {
    await engine.submit(SyncItem.fromJson('gone', { n: 1 }), { ack: 'stored' })
    expect((await fetchOf('/v1/items/gone')).status).toBe(200) // admits the item into L1
    await engine.delete('gone', { ack: 'stored' }) // L1's entry becomes the tombstone
    const tombstone = fetchOf('/v1/items/gone')
    expect(tombstone).toBeInstanceOf(Response)
    expect((tombstone as Response).status).toBe(404)

    const miss = fetchOf('/v1/items/never-written')
    expect(miss).toBeInstanceOf(Promise)
    expect((await miss).status).toBe(404)

    await engine.submit(SyncItem.fromJson('checked', { n: 2 }), { ack: 'stored' })
    await fetchOf('/v1/items/checked')
    const verified = fetchOf('/v1/items/checked?verify=true')
    expect(verified).toBeInstanceOf(Promise)
    expect(await (await verified).json()).toEqual({ n: 2 })
  })
})
