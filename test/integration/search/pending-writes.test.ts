import { join } from 'node:path'
import {
  compareCodePoints,
  parseSearchRequest,
  SyncEngine,
  SyncItem,
  searchInMemory,
} from '@sync-engine/core/internal'
import { createSqliteStore, SqliteWriteAheadLog } from '@sync-engine/sql-sqlite'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { FlakyL3 } from '../../support/flaky-l3.ts'
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

describe('search, listing and count with writes parked in the log (SQLite)', () => {
  const dir = makeTempDir('parked-search')
  afterAll(() => dir.remove())

  /** An engine whose L3 breaker opens at the first failure and probes again after 1 ms. */
  function open(l3: FlakyL3, wal: SqliteWriteAheadLog, config: { queueMaxBytes?: number } = {}) {
    return new SyncEngine({
      l3,
      wal,
      maintenance: 'manual',
      breakers: { l3: { failureThreshold: 1, openMs: 1, maxOpenMs: 1 } },
      config: { batchFlushMs: 60_000, requireL3AtStart: false, ...config },
    })
  }

  /** What L3 answers once its breaker lets calls through again (it opened during the outage). */
  async function afterBreaker<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call()
      } catch (error) {
        if ((error as { code?: string }).code !== 'CIRCUIT_OPEN' || attempt > 200) throw error
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    }
  }

  async function answers(engine: SyncEngine) {
    const search = await afterBreaker(() =>
      engine.search({
        index: 'docs',
        query: { eq: { field: 'kind', value: 'x' } },
        sort: { field: 'n', order: 'asc' },
      }),
    )
    const listing = await engine.listItems({ prefix: 'd:' })
    return {
      search: search.items.map((item) => item.id),
      listing: listing.items.map((item) => item.id),
      count: await engine.countItems({ prefix: 'd:' }),
    }
  }

  const expected = { search: ['d:old', 'd:keep', 'd:new'], listing: ['d:keep', 'd:new', 'd:old'], count: 3 }

  it('answer with them until the drain stores them (held in memory, and read back from the log after a restart)', async () => {
    const paths = { sync: join(dir.path, 'parked.db'), wal: join(dir.path, 'parked-wal.db') }
    const l3 = new FlakyL3(createSqliteStore({ path: paths.sync }))
    const wal = new SqliteWriteAheadLog({ path: paths.wal, maxBytes: 64 * 1024 * 1024 })
    const first = open(l3, wal)
    await first.start()
    await first.defineIndex(index)
    for (const [id, value] of [
      ['d:keep', { kind: 'x', n: 1 }],
      ['d:gone', { kind: 'x', n: 2 }],
      ['d:old', { kind: 'y', n: 0 }],
    ] as const) {
      await first.submit(SyncItem.fromJson(id, value), { ack: 'stored' })
    }
    // L3 goes away: these are acknowledged as logged, and the flush parks them in the log.
    l3.down = true
    await first.submit(SyncItem.fromJson('d:new', { kind: 'x', n: 3 }))
    await first.submit(SyncItem.fromJson('d:old', { kind: 'x', n: 0 }))
    await first.delete('d:gone')
    await first.flush()
    const parked = await first.health()
    expect(parked.wal.configured && parked.wal.parked).toBe(3)
    // Back, not drained yet (maintenance is manual): L3 still has the old state.
    l3.down = false
    expect(await answers(first)).toEqual(expected)

    // The process dies with the writes still parked. The next one finds L3 refusing writes, so the
    // replay parks them again, with no room to hold any in memory: they are read from the log.
    l3.failWrites = Number.MAX_SAFE_INTEGER
    await wal.close()
    const reopened = new SqliteWriteAheadLog({ path: paths.wal, maxBytes: 64 * 1024 * 1024 })
    let fromLog = 0
    const latest = reopened.latest.bind(reopened)
    reopened.latest = (id) => {
      fromLog++
      return latest(id)
    }
    const second = open(l3, reopened, { queueMaxBytes: 1 })
    await second.start()
    try {
      const replayed = await second.health()
      expect(replayed.wal.configured && replayed.wal.parked).toBe(3)
      expect(await answers(second)).toEqual(expected)
      expect(fromLog).toBeGreaterThan(0)
      // L3 takes writes again: the drain stores them, and the answers stay.
      l3.failWrites = 0
      await afterBreaker(() => second.runMaintenance())
      const drained = await second.health()
      expect(drained.wal.configured && drained.wal.parked).toBe(0)
      expect(await answers(second)).toEqual(expected)
    } finally {
      await second.shutdown()
      await first.shutdown().catch(() => {})
    }
  })
})
