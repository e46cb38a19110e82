import {
  type L3Search,
  type L3Store,
  parseIndexDefinition,
  parseSearchRequest,
  type SearchQuery,
  type SearchSort,
  type SearchSqlDialect,
  type SqlTransport,
  searchInMemory,
  searchPlan,
} from '@sync-engine/core/internal'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { queriesOf, searchSort } from '../../support/search-arbitraries.ts'
import { type TestItem, writeIndexed } from './sql-search-harness.ts'

/**
 * The SQL search against the reference semantics, the same cases on every SQL backend: random documents (missing fields,
 * numbers as strings, unicode, long tags) and random queries give exactly the in-memory
 * evaluator's ids, in its order, page by page; and the plans use the side tables' keys.
 */
export const index = parseIndexDefinition({
  name: 'docs',
  prefix: 'd:',
  fields: {
    kind: { type: 'tag', path: '$.kind', sortable: true },
    n: { type: 'numeric', path: '$.n', sortable: true },
    body: { type: 'text', path: '$.body' },
    note: { type: 'text', path: '$.meta.note' },
  },
})

const kind = fc.constantFrom('x', 'y', 'X', 'y z', 'é', '😀', '%_', 'x'.repeat(300))
const value = fc.record(
  {
    kind: fc.oneof(kind, fc.array(kind, { maxLength: 3 }), fc.boolean(), fc.integer()),
    n: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(0.5, -0, 1e300, '2', null)),
    body: fc.constantFrom('alpha beta', 'Beta_gamma', 'ALPHA\nZoë', 'é alpha', ''),
    meta: fc.record({ note: fc.constantFrom('gamma', 'zoe Alpha', 'x') }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
)
const idChar = fc.constantFrom('a', 'b', 'Z', 'é', '\uFFFD', '😀', '%', '_')
const id = fc.oneof(
  fc.string({ unit: idChar, minLength: 1, maxLength: 4 }).map((rest) => `d:${rest}`),
  fc.constantFrom('e:outside', 'd', 'c:z'),
)
const items = fc.uniqueArray(fc.record({ id, value }), { selector: (item) => item.id, maxLength: 30 })
const leaf: fc.Arbitrary<SearchQuery> = fc.oneof(
  kind.map((v) => ({ eq: { field: 'kind', value: v } })),
  fc.constantFrom(-3, 0, 0.5, 2, 1e300).map((v) => ({ eq: { field: 'n', value: v } })),
  fc
    .record({
      gte: fc.integer({ min: -3, max: 3 }),
      lt: fc.option(fc.integer({ min: -2, max: 4 }), { nil: undefined }),
    })
    .map(({ gte, lt }) => ({ range: { field: 'n', gte, ...(lt !== undefined && { lt }) } })),
  fc.constantFrom('alpha', 'beta', 'gamma alpha', 'ZOE').map((terms) => ({ text: { terms } })),
  fc.constantFrom('alpha', 'zoe').map((terms) => ({ text: { field: 'body', terms } })),
  fc.constantFrom('x', 'y', '%', 'é').map((v) => ({ prefix: { field: 'kind', value: v } })),
  fc.array(kind, { minLength: 1, maxLength: 3 }).map((any) => ({ tags: { field: 'kind', any } })),
)
const query = queriesOf(leaf)
const sort = searchSort

/**
 * Partitions that split the test ids: nested (`d:a` inside `d:`'s range, `d:ab` inside `d:a`),
 * one whose prefix has LIKE and GLOB metacharacters, and one outside the index's prefix.
 */
export const TEST_PARTITIONS = ['d:a', 'd:ab', 'd:%', 'e:'] as const

/** A store with search: a `SqlStore`, or a `PartitionedStore` over several tables. */
export type SearchableStore = L3Store & { readonly search: L3Search }

/** The suite's random documents, ids and queries, for other differential tests. */
export const arbitraries = { id, value, query, sort }

export interface SqlSearchBackend {
  readonly transport: () => SqlTransport
  readonly dialect: SearchSqlDialect
  /** A new items table with the test index defined on it (side tables created), and its store. */
  fresh(options?: { define?: boolean }): Promise<{ table: string; store: SearchableStore }>
  /** A second store over the table of `store` (what the next process opens). */
  storeOver(store: SearchableStore): SearchableStore
  readonly runs: number
}

/**
 * A backend over one items table per `fresh()`, or over a base table with `TEST_PARTITIONS`
 * registered (every page then merges several tables): `open` makes the store over a table.
 */
export function searchBackendOf(options: {
  readonly open: (table: string, partitioned: boolean) => SearchableStore
  readonly nextTable: () => string
  readonly transport: () => SqlTransport
  readonly dialect: SearchSqlDialect
  readonly runs: number
  readonly partitioned: boolean
}): SqlSearchBackend {
  const tablesOf = new Map<SearchableStore, string>()
  const open = (table: string) => options.open(table, options.partitioned)
  return {
    storeOver: (store) => open(tablesOf.get(store)!),
    transport: options.transport,
    dialect: options.dialect,
    runs: options.runs,
    async fresh(fresh = {}) {
      const table = options.nextTable()
      const store = open(table)
      await store.init()
      if (options.partitioned) for (const p of TEST_PARTITIONS) await store.partitions!.register(p)
      if (fresh.define !== false) await store.search.define(index)
      tablesOf.set(store, table)
      return { table, store }
    },
  }
}

export function differentialSearchCase(backend: SqlSearchBackend): void {
  it('answers exactly the reference evaluator’s ids, in its order, page by page', async () => {
    await fc.assert(
      fc.asyncProperty(
        items,
        fc.array(items, { maxLength: 2 }),
        query,
        sort,
        fc.integer({ min: 1, max: 6 }),
        async (first, rewrites, q, s, limit) => {
          const { store } = await backend.fresh()
          // Rewrites and deletes of some ids after the first write: the side tables must follow.
          let version = 1_000
          await writeIndexed(store, first, version)
          const current = new Map<string, TestItem>(first.map((item) => [item.id, item]))
          for (const batch of rewrites) {
            version += 1_000
            const changed = batch.map((item, n) => (n % 3 === 2 ? { id: item.id, value: undefined } : item))
            await writeIndexed(store, changed, version)
            for (const item of changed) current.set(item.id, item)
          }
          const documents = [...current.values()]
            .filter((item) => item.value !== undefined)
            .map((item) => ({ id: item.id, version: 0, value: item.value }))
          const base = { index: 'docs', query: q, ...(s && { sort: s }) }
          const expected = searchInMemory(
            index,
            parseSearchRequest({ ...base, limit: 1000 }),
            documents,
          ).items.map((i) => i.id)
          const seen: string[] = []
          let cursor: string | null = null
          for (let page = 0; page < 50; page++) {
            const request = parseSearchRequest({ ...base, limit, ...(cursor && { cursor }) })
            const answer = await store.search.search(request, Date.now())
            seen.push(...answer.items.map((item) => item.id))
            cursor = answer.cursor
            if (cursor === null) break
          }
          expect(seen).toEqual(expected)
        },
      ),
      { numRuns: backend.runs },
    )
  })
}

/**
 * Every operator, unsorted and sorted, for the plan checks: each statement of a page's plan must
 * read the items table and the side tables by key (a side table's alias is `d` when it drives an
 * unsorted page, `s` a sorted one, `x` a probe), never scan them.
 */
export const PLANNED: readonly { readonly query: SearchQuery; readonly sort?: SearchSort }[] = [
  { query: { eq: { field: 'kind', value: 'x' } } },
  { query: { eq: { field: 'n', value: 2 } } },
  { query: { range: { field: 'n', gte: 1, lt: 3 } } },
  { query: { tags: { field: 'kind', any: ['x', 'y'] } } },
  { query: { prefix: { field: 'kind', value: 'x' } } },
  { query: { text: { field: 'body', terms: 'alpha beta' } } },
  { query: { text: { terms: 'alpha' } } },
  { query: { not: { eq: { field: 'kind', value: 'x' } } } },
  { query: { range: { field: 'n', gte: 1, lt: 3 } }, sort: { field: 'n', order: 'asc' } },
  { query: { eq: { field: 'kind', value: 'x' } }, sort: { field: 'n', order: 'desc' } },
  { query: { eq: { field: 'n', value: 1 } }, sort: { field: 'kind', order: 'asc' } },
]

/** The statements of a page's plan (the items without a sort value too, when sorted). */
export function statementsFor(backend: SqlSearchBackend, table: string, planned: (typeof PLANNED)[number]) {
  const request = parseSearchRequest({
    index: 'docs',
    query: planned.query,
    ...(planned.sort && { sort: planned.sort }),
  })
  const plan = searchPlan(backend.dialect, table, index, request, undefined, Date.now())
  return [plan.valued, plan.missing?.(request.limit + 1)].filter((statement) => statement !== undefined)
}

export function indexLifecycleCases(backend: SqlSearchBackend): void {
  it('backfills an index defined over existing items, persists its definition, and drops it', async () => {
    const { store } = await backend.fresh({ define: false })
    await writeIndexed(
      store,
      [
        { id: 'd:1', value: { kind: 'x', n: 1 } },
        { id: 'd:2', value: { kind: 'y', n: 2 } },
        { id: 'e:1', value: { kind: 'x' } },
      ],
      10,
    )
    const seen: number[] = []
    expect(await store.search.define(index, (covered) => seen.push(covered))).toBe(true)
    expect(seen.at(-1)).toBe(2)
    expect(await store.search.define(index)).toBe(false)
    const request = parseSearchRequest({ index: 'docs', query: { eq: { field: 'kind', value: 'x' } } })
    expect((await store.search.search(request, Date.now())).items.map((item) => item.id)).toEqual(['d:1'])
    // A write after the definition keeps it current; a delete takes the item out.
    await writeIndexed(
      store,
      [
        { id: 'd:3', value: { kind: 'x' } },
        { id: 'd:1', value: undefined },
      ],
      20,
    )
    expect((await store.search.search(request, Date.now())).items.map((item) => item.id)).toEqual(['d:3'])
    // Listing: live items under a literal prefix, in id order, a page at a time.
    const listed = await store.search.list({ prefix: 'd:', limit: 1 }, Date.now())
    expect(listed).toEqual({ items: [{ id: 'd:2', version: 11, state: 'default' }], more: true })
    const rest = await store.search.list({ prefix: 'd:', afterId: 'd:2', limit: 5 }, Date.now())
    expect(rest.items.map((item) => item.id)).toEqual(['d:3'])
    expect(rest.more).toBe(false)
    expect((await store.search.list({ prefix: 'd%', limit: 5 }, Date.now())).items).toEqual([])
    expect(await store.search.count({ prefix: 'd:' }, Date.now())).toBe(2)
    expect(await store.search.count({ prefix: 'd:', state: 'other' }, Date.now())).toBe(0)
    // Another store over the same table (the next process) knows the index.
    const again = backend.storeOver(store)
    await again.init()
    expect(again.search.definitions.map((definition) => definition.name)).toEqual(['docs'])
    expect((await again.search.search(request, Date.now())).items.map((item) => item.id)).toEqual(['d:3'])
    await again.search.drop('docs')
    await expect(again.search.search(request, Date.now())).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(again.search.drop('docs')).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
}
