import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import { type SyncEngine, SyncItem } from '@sync-engine/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSqliteApp, tempDir } from './support/sqlite-app.ts'

/**
 * The item routes as a client sees them through the Node adapter (`@hono/node-server`, as the
 * server runs them): headers are what reaches the wire, not what the app's Response holds.
 */
let dir: Awaited<ReturnType<typeof tempDir>>
let engine: SyncEngine
let server: ReturnType<typeof createAdaptorServer>
let base: string

const BYTES = new TextEncoder().encode('café ☕ bytes') // more bytes than characters

beforeAll(async () => {
  dir = await tempDir()
  const t = await openSqliteApp(dir.path)
  engine = t.engine
  server = createAdaptorServer({ fetch: t.app.fetch })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  await engine.shutdown()
  await dir.remove()
})

/** Stores an item (through the engine: these tests are about the answers of GET, HEAD and DELETE). */
async function putItem(id: string): Promise<string> {
  const receipt = await engine.submit(SyncItem.fromBinary(id, BYTES, { mime: 'image/x-test' }), {
    ack: 'stored',
  })
  return `"${receipt.version}"`
}

describe('bodyless answers on the wire', () => {
  it('HEAD answers like GET, with Content-Length (the byte length of the item) and no body', async () => {
    const etag = await putItem('head')
    const res = await fetch(`${base}/v1/items/head`, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-length')).toBe(String(BYTES.byteLength))
    expect(res.headers.get('content-type')).toBe('image/x-test')
    expect(res.headers.get('etag')).toBe(etag)
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(await res.text()).toBe('')
    const get = await fetch(`${base}/v1/items/head`)
    expect(get.headers.get('content-length')).toBe(String(BYTES.byteLength))
    expect(new Uint8Array(await get.arrayBuffer())).toEqual(BYTES)
  })

  it('304 carries the ETag and Cache-Control, and no body or Content-Length', async () => {
    const etag = await putItem('not-modified')
    const res = await fetch(`${base}/v1/items/not-modified`, { headers: { 'if-none-match': etag } })
    expect(res.status).toBe(304)
    expect(res.headers.get('etag')).toBe(etag)
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('content-length')).toBeNull()
    expect(await res.text()).toBe('')
  })

  it('DELETE answers 204 with no body', async () => {
    await putItem('gone')
    const res = await fetch(`${base}/v1/items/gone`, { method: 'DELETE' })
    expect(res.status).toBe(204)
    expect(res.headers.get('content-length')).toBeNull()
    expect(await res.text()).toBe('')
  })

  /**
   * The routes answer 304 and 204 with a null body and no Content-Type (see items.test.ts);
   * `@hono/node-server` 1.x added `text/plain; charset=UTF-8` to every response without one, which
   * is why the Node package depends on 2.x (honojs/node-server#341).
   */
  it('304 and 204 carry no Content-Type on the wire', async () => {
    const etag = await putItem('typeless')
    const notModified = await fetch(`${base}/v1/items/typeless`, { headers: { 'if-none-match': etag } })
    expect(notModified.status).toBe(304)
    expect(notModified.headers.get('content-type')).toBeNull()
    const deleted = await fetch(`${base}/v1/items/typeless`, { method: 'DELETE' })
    expect(deleted.status).toBe(204)
    expect(deleted.headers.get('content-type')).toBeNull()
  })
})
