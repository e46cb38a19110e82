import { MemoryL2Store, MemoryL3Store, SyncEngine, SyncItem } from '@sync-engine/core'
import { createApp } from '@sync-engine/http'
import { afterEach, describe, expect, it, vi } from 'vitest'

/**
 * Background work of a request (an L2 back-fill after an L3 hit) goes to that request's
 * `waitUntil` where the runtime hands one out (Workers, Lambda through Hono's adapters), so it is
 * not cut off once the response is sent.
 */

const engines: SyncEngine[] = []
afterEach(async () => {
  await Promise.allSettled(engines.splice(0).map((engine) => engine.shutdown()))
})

async function appWithItemOnlyInL3() {
  const l2 = new MemoryL2Store()
  const engine = new SyncEngine({ l2, l3: new MemoryL3Store(), config: { l1MaxBytes: 1 } })
  engines.push(engine)
  await engine.start()
  await engine.submit(SyncItem.fromJson('cold', { c: 1 }), { redis: false, ack: 'stored' })
  return { app: createApp({ engine, config: { apiTokens: [] } }), l2 }
}

describe('the request scope', () => {
  it('hands the back-fill of an L3 hit to the request’s waitUntil, which then writes L2', async () => {
    const { app, l2 } = await appWithItemOnlyInL3()
    const waitUntil = vi.fn()
    const ctx = { waitUntil, passThroughOnException: () => {}, props: {} }
    const res = await app.fetch(new Request('http://x/v1/items/cold'), {}, ctx)
    expect(res.status).toBe(200)
    expect(waitUntil).toHaveBeenCalledTimes(1)
    await waitUntil.mock.calls[0]![0]
    expect((await l2.read(['cold'])).has('cold')).toBe(true)
  })

  it('without an execution context (Node) the work runs on its own', async () => {
    const { app, l2 } = await appWithItemOnlyInL3()
    const res = await app.fetch(
      new Request('http://x/v1/items:batchGet', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ids: ['cold'] }),
      }),
    )
    expect(res.status).toBe(200)
    await expect.poll(async () => (await l2.read(['cold'])).has('cold')).toBe(true)
  })
})
