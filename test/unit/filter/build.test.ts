import { join } from 'node:path'
import { ExistenceFilter, type L3Store, type StoredRecord, scanIdPages } from '@sync-engine/core/internal'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'

const dir = makeTempDir('filter-build')
afterAll(() => dir.remove())

/** A store over a sorted id list that answers `scanIds` as keyset pagination should, and logs calls. */
function fakeStore(ids: string[]) {
  const sorted = [...ids].sort()
  const calls: { after?: string; limit: number; prefix?: string }[] = []
  const store: Pick<L3Store, 'scanIds'> = {
    async scanIds(options) {
      calls.push(options)
      return sorted
        .filter((id) => options.after === undefined || id > options.after)
        .filter((id) => options.prefix === undefined || id.startsWith(options.prefix))
        .slice(0, options.limit)
    },
  }
  return { store, calls }
}

async function collect(pages: AsyncIterable<string[]>): Promise<string[][]> {
  const out: string[][] = []
  for await (const page of pages) out.push(page)
  return out
}

describe('scanIdPages', () => {
  it('continues each page after the last id of the one before, and stops on a short page', async () => {
    const { store, calls } = fakeStore(['a', 'b', 'c', 'd', 'e'])
    expect(await collect(scanIdPages(store, { pageSize: 2 }))).toEqual([['a', 'b'], ['c', 'd'], ['e']])
    expect(calls).toEqual([{ limit: 2 }, { limit: 2, after: 'b' }, { limit: 2, after: 'd' }])
  })

  it('ends on an empty page when the ids fill the last page exactly', async () => {
    const { store, calls } = fakeStore(['a', 'b', 'c', 'd'])
    expect(await collect(scanIdPages(store, { pageSize: 2 }))).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ])
    expect(calls.at(-1)).toEqual({ limit: 2, after: 'd' })
  })

  it('passes the prefix to every query', async () => {
    const { store, calls } = fakeStore(['x:1', 'x:2', 'x:3', 'y:1'])
    expect((await collect(scanIdPages(store, { pageSize: 2, prefix: 'x:' }))).flat()).toEqual([
      'x:1',
      'x:2',
      'x:3',
    ])
    expect(calls.every((call) => call.prefix === 'x:')).toBe(true)
  })

  it('refuses a store whose page does not move past the cursor, instead of looping', async () => {
    const stuck: Pick<L3Store, 'scanIds'> = { scanIds: async () => ['a', 'b'] }
    await expect(collect(scanIdPages(stuck, { pageSize: 2 }))).rejects.toThrow(/ending at the cursor/)
  })

  it('rejects a page size that is not a positive integer', async () => {
    const { store } = fakeStore(['a'])
    await expect(collect(scanIdPages(store, { pageSize: 0 }))).rejects.toThrow(RangeError)
  })
})

describe('ExistenceFilter.build', () => {
  it('holds every id of every page, in one link when told how many to expect', async () => {
    async function* pages() {
      for (let p = 0; p < 10; p++) yield Array.from({ length: 1000 }, (_, i) => `p${p}:${i}`)
    }
    const filter = await ExistenceFilter.build(pages(), { expectedIds: 10_000, seed: 2 })
    expect(filter.size).toBe(10_000)
    expect(filter.links).toBe(1)
    for (let p = 0; p < 10; p++) {
      for (let i = 0; i < 1000; i++) expect(filter.mightContain(`p${p}:${i}`)).toBe(true)
    }
  })

  it('streams a real SQLite L3 by keyset pages: live ids in, deleted ids out', async () => {
    const store = createSqliteStore({ path: join(dir.path, 'l3.db') })
    await store.init()
    try {
      const record = (id: string, tombstone: boolean): StoredRecord => ({
        id,
        version: 1,
        updatedAt: 1_700_000_000_000,
        hash: tombstone ? '' : 'h',
        state: 'default',
        contentType: 'binary',
        mime: tombstone ? '' : 'application/octet-stream',
        content: tombstone ? null : new Uint8Array([1]),
        tombstone,
      })
      // Ids of several lengths and scripts, so page boundaries fall between differently sorted ids.
      const live = Array.from({ length: 2345 }, (_, i) => (i % 3 === 0 ? `é/${i}` : `item:${i}`))
      const deleted = Array.from({ length: 200 }, (_, i) => `gone:${i}`)
      const all = [...live.map((id) => record(id, false)), ...deleted.map((id) => record(id, true))]
      for (let i = 0; i < all.length; i += 500) await store.write(all.slice(i, i + 500))

      const filter = await ExistenceFilter.build(scanIdPages(store, { pageSize: 100 }), {
        expectedIds: await store.count(),
        seed: 4,
      })
      expect(filter.size).toBe(live.length)
      expect(live.filter((id) => !filter.mightContain(id))).toEqual([])
      expect(deleted.filter((id) => filter.mightContain(id))).toEqual([])
    } finally {
      await store.close()
    }
  })
})
