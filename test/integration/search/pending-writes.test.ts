import { join } from 'node:path'
import {
  compareCodePoints,
  parseSearchRequest,
  SyncEngine,
  SyncItem,
  searchInMemory,
} from '@sync-engine/core/internal'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'
import { arbitraries, index } from './sql-search-suite.ts'

/**
 * Read your writes without waiting for a flush: writes still in the queue (nothing flushes on its
 * own here) are merged into searches, listings and counts with the reference semantics, whatever
 * mix of stored and pending puts and deletes, page by page.
 */
type Op = { put: string; value: unknown } | { del: string } | { flush: true }

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ put: arbitraries.id, value: arbitraries.value }) },
  { weight: 2, arbitrary: fc.record({ del: arbitraries.id }) },
  { weight: 1, arbitrary: fc.constant({ flush: true as const }) },
)

describe('search, listing and count with pending writes (SQLite)', () => {
  const dir = makeTempDir('pending-search')
  let tables = 0
  afterAll(() => dir.remove())

  it('answer as if every acknowledged write were stored', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 30 }),
        arbitraries.query,
        arbitraries.sort,
        fc.integer({ min: 1, max: 5 }),
        async (ops, q, s, limit) => {
          const engine = new SyncEngine({
            l3: createSqliteStore({ path: join(dir.path, 'pending.db'), table: `t${++tables}` }),
            config: { batchFlushMs: 60_000, batchFlushCount: 100_000 },
          })
          await engine.start()
          try {
            await engine.defineIndex(index)
            const model = new Map<string, unknown>()
            for (const step of ops) {
              if ('flush' in step) await engine.flush()
              else if ('put' in step) {
                await engine.submit(SyncItem.fromJson(step.put, step.value), { ack: 'queued' })
                model.set(step.put, step.value)
              } else {
                await engine.delete(step.del, { ack: 'queued' })
                model.delete(step.del)
              }
            }
            const documents = [...model].map(([id, value]) => ({ id, version: 0, value }))
            const base = { index: 'docs', query: q, ...(s && { sort: s }) }
            const expected = searchInMemory(index, parseSearchRequest({ ...base, limit: 1000 }), documents)
            const seen: string[] = []
            let cursor: string | null = null
            for (let page = 0; page < 60; page++) {
              const answer = await engine.search({ ...base, limit, ...(cursor && { cursor }) })
              seen.push(...answer.items.map((item) => item.id))
              cursor = answer.cursor
              if (cursor === null) break
            }
            expect(seen).toEqual(expected.items.map((item) => item.id))

            const live = [...model.keys()].filter((id) => id.startsWith('d:')).sort(compareCodePoints)
            const listed: string[] = []
            let after: string | null = null
            for (let page = 0; page < 60; page++) {
              const answer = await engine.listItems({ prefix: 'd:', limit, ...(after && { cursor: after }) })
              listed.push(...answer.items.map((item) => item.id))
              after = answer.cursor
              if (after === null) break
            }
            expect(listed).toEqual(live)
            expect(await engine.countItems({ prefix: 'd:' })).toBe(live.length)
          } finally {
            await engine.shutdown()
          }
        },
      ),
      { numRuns: 60 },
    )
  })
})
