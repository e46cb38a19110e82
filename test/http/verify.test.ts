import { type SyncEngine, SyncItem } from '@sync-engine/core'
import Database from 'better-sqlite3'
import type { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capturingLogger } from './support/capturing-logger.ts'
import { expectProblem } from './support/problem-assertions.ts'
import { openSqliteApp, tempDir } from './support/sqlite-app.ts'

let dir: Awaited<ReturnType<typeof tempDir>>
let engine: SyncEngine
let app: Hono
const logger = capturingLogger()

const SENT = 'hello, world'
const ROTTEN = 'hello, w0rld' // same length, one byte changed

beforeAll(async () => {
  dir = await tempDir()
  // A first engine stores two items for good, then stops.
  const writer = await openSqliteApp(dir.path)
  for (const id of ['rotten', 'sound']) {
    const item = SyncItem.fromBinary(id, new TextEncoder().encode(SENT), { mime: 'text/plain' })
    await writer.engine.submit(item, { ack: 'stored' })
  }
  await writer.engine.shutdown()

  // The bytes of one row rot on disk: same length, different bytes, the stored hash unchanged.
  const db = new Database(writer.dbPath)
  try {
    const update = db.prepare('UPDATE sync_items SET payload_blob = ? WHERE id = ?')
    expect(update.run(Buffer.from(ROTTEN), 'rotten').changes).toBe(1)
  } finally {
    db.close()
  }
  // A fresh engine on the same files: its L1 holds nothing, so reads reach L3.
  ;({ engine, app } = await openSqliteApp(dir.path, { logger }))
})
afterAll(async () => {
  await engine.shutdown()
  await dir.remove()
})

describe('GET /v1/items/:id?verify=true', () => {
  it('answers 500 corruption naming the id when L3 content fails its hash, and logs it', async () => {
    logger.entries.length = 0
    const problem = await expectProblem(await app.request('/v1/items/rotten?verify=true'), 500, 'corruption')
    expect(problem.id).toBe('rotten')
    expect(problem.detail).toBe('content of "rotten" does not match its hash')
    const logged = logger.entries.find((entry) => entry.level === 'error' && entry.fields.err !== undefined)
    expect(JSON.stringify(logged?.fields.err)).toContain('CorruptionError')
  })

  it('serves content that passes its hash as usual', async () => {
    const res = await app.request('/v1/items/sound?verify=true')
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(SENT)
  })

  it('without verify (or verify=false) the bytes are served unchecked', async () => {
    for (const query of ['', '?verify=false']) {
      const res = await app.request(`/v1/items/rotten${query}`)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe(ROTTEN)
    }
    // Now in L1 as read; a verified read re-hashes that copy, drops it and still finds L3 corrupt.
    await expectProblem(await app.request('/v1/items/rotten?verify=true'), 500, 'corruption')
  })

  it.each([['verify=yes'], ['verify='], ['verify=true&verify=true'], ['verfy=true']])(
    '?%s answers 400 invalid-argument (the GET query is strict)',
    async (query) => {
      await expectProblem(await app.request(`/v1/items/sound?${query}`), 400, 'invalid-argument')
    },
  )

  it('HEAD takes verify too: 500 with no body', async () => {
    const res = await app.request('/v1/items/rotten?verify=true', { method: 'HEAD' })
    expect(res.status).toBe(500)
    expect(await res.text()).toBe('')
  })
})
