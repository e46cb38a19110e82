import {
  ConflictError,
  IndexBuildingError,
  InvalidArgumentError,
  NoTierError,
  NotFoundError,
  parseIndexDefinition,
  parseSearchRequest,
  type SearchQuery,
  type StoredRecord,
  SyncItem,
  searchInMemory,
} from '@sync-engine/core/internal'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RediSearchIndexes } from '../../../../packages/core/src/search/redisearch/redisearch-indexes.ts'
import { queriesOf, searchSort } from '../../../support/search-arbitraries.ts'
import { FakeRediSearch } from './fake-redisearch.ts'

const index = parseIndexDefinition({
  name: 'docs',
  prefix: 'd:',
  fields: {
    kind: { type: 'tag', path: '$.kind', sortable: true },
    n: { type: 'numeric', path: '$.n', sortable: true },
    body: { type: 'text', path: '$.body' },
    note: { type: 'text', path: '$.meta.note' },
  },
})

/** Timers that fire at once: the backfill polling waits for nothing in these tests. */
const instant = {
  now: () => 0,
  setTimer: (fn: () => void) => queueMicrotask(fn),
  clearTimer: () => {},
}

const NOW = 1_000_000

function record(
  id: string,
  value: unknown,
  options: { version?: number; expiresAt?: number } = {},
): StoredRecord {
  if (value === undefined) {
    const item = SyncItem.fromJson(id, null)
    return { ...item.withVersion(options.version ?? 1, 1), tombstone: true, content: null }
  }
  const item = SyncItem.fromJson(id, value).withVersion(options.version ?? 1, 1)
  return {
    ...item,
    tombstone: false,
    ...(options.expiresAt !== undefined && { expiresAt: options.expiresAt }),
  }
}

/** `json: false`: a server with the query engine but no RedisJSON (projection hashes, ON HASH). */
async function fresh(json = true): Promise<{ redis: FakeRediSearch; search: RediSearchIndexes }> {
  const redis = new FakeRediSearch(undefined, { json })
  const search = new RediSearchIndexes(redis, { platform: instant })
  await search.define(index)
  return { redis, search }
}

// The arbitraries of the SQL differential suite, plus lone-surrogate-free unicode, floats and expiry.
const kind = fc.constantFrom(
  'x',
  'y',
  'X',
  'y z',
  ' y',
  'é',
  '😀',
  '\uFFFD',
  '\uE000',
  '%_',
  '',
  'x'.repeat(300),
)
const value = fc.record(
  {
    kind: fc.oneof(kind, fc.array(kind, { maxLength: 3 }), fc.boolean(), fc.integer()),
    n: fc.oneof(
      fc.integer({ min: -3, max: 3 }),
      fc.constantFrom(0.5, -0, 1e300, -1e300, 0.30000000000000004, 5e-324, '2', null),
    ),
    body: fc.constantFrom('alpha beta', 'Beta_gamma', 'ALPHA\nZoë', 'é alpha', '', 'the a of'),
    meta: fc.record({ note: fc.constantFrom('gamma', 'zoe Alpha', 'x') }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
)
const idChar = fc.constantFrom('a', 'b', 'Z', 'é', '\uFFFD', '\uE000', '😀', '%', '_', "'")
const id = fc.oneof(
  fc.string({ unit: idChar, minLength: 1, maxLength: 4 }).map((rest) => `d:${rest}`),
  fc.constantFrom('e:outside', 'd', 'c:z'),
)
const state = fc.constantFrom('live', 'live', 'live', 'deleted', 'expired', 'expires later')
const items = fc.uniqueArray(fc.record({ id, value, state }), { selector: (item) => item.id, maxLength: 30 })
const leaf: fc.Arbitrary<SearchQuery> = fc.oneof(
  kind.map((v) => ({ eq: { field: 'kind', value: v } })),
  fc.constantFrom(-3, 0, 0.5, 2, 1e300, 0.30000000000000004).map((v) => ({ eq: { field: 'n', value: v } })),
  fc
    .record({
      low: fc.option(fc.constantFrom(-3, -0.5, 0, 0.30000000000000004, 2), { nil: undefined }),
      high: fc.option(fc.constantFrom(-2, 0, 0.5, 4, 1e300), { nil: undefined }),
      exclusive: fc.boolean(),
    })
    .map(({ low, high, exclusive }) => ({
      range: {
        field: 'n',
        ...(low !== undefined && (exclusive ? { gt: low } : { gte: low })),
        ...(high !== undefined && (exclusive ? { lte: high } : { lt: high })),
        ...(low === undefined && high === undefined && { gte: 0 }),
      },
    })),
  fc.constantFrom('alpha', 'beta', 'gamma alpha', 'ZOE', 'of').map((terms) => ({ text: { terms } })),
  fc.constantFrom('alpha', 'zoe').map((terms) => ({ text: { field: 'body', terms } })),
  fc.constantFrom('x', 'y', '%', 'é', '\uD83D', ' ').map((v) => ({ prefix: { field: 'kind', value: v } })),
  fc.array(kind, { minLength: 1, maxLength: 3 }).map((any) => ({ tags: { field: 'kind', any } })),
)
const query = queriesOf(leaf)
const sort = searchSort

describe.each([
  { on: 'JSON', json: true },
  { on: 'HASH', json: false },
])('RediSearchIndexes over a model of RediSearch, ON $on', ({ on, json }) => {
  it('indexes the key type the writes keep', async () => {
    const { redis, search } = await fresh(json)
    expect(search.keyType).toBe(on)
    expect([...redis.indexes.values()].map((created) => created.keyType)).toEqual([on])
  })

  it('answers exactly the reference evaluator’s ids and cursors, page by page', async () => {
    await fc.assert(
      fc.asyncProperty(items, query, sort, fc.integer({ min: 1, max: 6 }), async (all, q, s, limit) => {
        const { redis, search } = await fresh(json)
        for (const item of all) {
          const expiresAt = item.state === 'expired' ? NOW - 1 : item.state === 'expires later' ? NOW + 1 : 0
          redis.put(record(item.id, item.state === 'deleted' ? undefined : item.value, { expiresAt }))
        }
        const documents = all
          .filter((item) => item.state === 'live' || item.state === 'expires later')
          .map((item) => ({ id: item.id, version: 1, value: item.value }))
        const base = { index: 'docs', query: q, ...(s && { sort: s }) }
        let mine: string | null = null
        let theirs: string | null = null
        for (let page = 0; page < 40; page++) {
          const request = (cursor: string | null) =>
            parseSearchRequest({ ...base, limit, ...(cursor && { cursor }) })
          const expected = searchInMemory(index, request(theirs), documents)
          const answer = await search.search(request(mine), NOW)
          expect(answer.items.map((item) => item.id)).toEqual(expected.items.map((item) => item.id))
          // The same cursor as the evaluator's: a page can continue on either backend.
          expect(answer.cursor).toBe(expected.cursor)
          mine = answer.cursor
          theirs = expected.cursor
          if (mine === null) break
        }
        expect(mine).toBe(null)
      }),
      { numRuns: 300 },
    )
  })

  it('returns versions and, when sorted, the exact sort values (not RediSearch’s %.12g text)', async () => {
    const { redis, search } = await fresh(json)
    redis.put(record('d:a', { n: 0.30000000000000004, kind: ['b', 'a'] }, { version: 7 }))
    redis.put(record('d:b', { kind: 'z' }, { version: 2 ** 52 + 3 }))
    const byN = await search.search(
      parseSearchRequest({
        index: 'docs',
        query: { not: { eq: { field: 'kind', value: 'q' } } },
        sort: { field: 'n', order: 'asc' },
      }),
      NOW,
    )
    expect(byN.items).toEqual([
      { id: 'd:a', version: 7, sortValue: 0.30000000000000004 },
      { id: 'd:b', version: 2 ** 52 + 3, sortValue: null },
    ])
    const byKind = await search.search(
      parseSearchRequest({
        index: 'docs',
        query: { prefix: { field: 'kind', value: 'b' } },
        sort: { field: 'kind', order: 'desc' },
      }),
      NOW,
    )
    expect(byKind.items).toEqual([{ id: 'd:a', version: 7, sortValue: 'b' }])
    const unsorted = await search.search(
      parseSearchRequest({ index: 'docs', query: { tags: { field: 'kind', any: ['a', 'z'] } } }),
      NOW,
    )
    expect(unsorted.items).toEqual([
      { id: 'd:a', version: 7 },
      { id: 'd:b', version: 2 ** 52 + 3 },
    ])
  })

  it('never makes RediSearch refuse a document, whatever the JSON types at the paths', async () => {
    const { redis } = await fresh(json)
    redis.put(record('d:1', { kind: 42, n: '42', body: ['a', 1, { x: 1 }], meta: { note: [true] } }))
    redis.put(record('d:2', { kind: { a: 1 }, n: [1, 2], body: null, meta: 'note' }))
    const info = (await redis.send(['FT.INFO', 't:x:search:docs'])) as unknown[]
    expect(info[info.indexOf('hash_indexing_failures') + 1]).toBe(0)
    expect(info[info.indexOf('num_docs') + 1]).toBe('2')
  })

  it('refuses a cursor of another query, and one whose value is not of the sort field’s type', async () => {
    const { redis, search } = await fresh(json)
    for (const n of [1, 2, 3]) redis.put(record(`d:${n}`, { n }))
    const request = {
      index: 'docs',
      query: { range: { field: 'n', gte: 0 } },
      sort: { field: 'n', order: 'asc' },
      limit: 1,
    }
    const first = await search.search(parseSearchRequest(request), NOW)
    await expect(
      search.search(
        parseSearchRequest({ ...request, query: { range: { field: 'n', gte: 1 } }, cursor: first.cursor }),
        NOW,
      ),
    ).rejects.toThrow(/another query/)
    // A forged position: a string where the numeric field sorts by numbers.
    const { encodeCursor } = await import('@sync-engine/core/internal')
    const forged = encodeCursor('docs', request.query, request.sort as never, { id: 'd:1', value: 'one' })
    await expect(
      search.search(parseSearchRequest({ ...request, cursor: forged }), NOW),
    ).rejects.toBeInstanceOf(InvalidArgumentError)
  })
})

describe('RediSearchIndexes lifecycle', () => {
  it('creates the index, keeps the definition in Redis, waits for the backfill, and is idempotent', async () => {
    const redis = new FakeRediSearch()
    redis.put(record('d:1', { kind: 'x' }))
    redis.backfillPolls = 2
    const search = new RediSearchIndexes(redis, { platform: instant })
    const seen: number[] = []
    expect(await search.define(index, (covered) => seen.push(covered))).toBe(true)
    // Two polls said "indexing", the third said done.
    expect(seen).toEqual([1, 1, 1])
    const commands = redis.sent.map((command) => command[0])
    expect(commands).toEqual(['HGET', 'FT.DROPINDEX', 'FT.CREATE', 'HSET', 'FT.INFO', 'FT.INFO', 'FT.INFO'])
    expect(await search.define(index)).toBe(false)
    // Another instance over the same Redis learns the definition, and does not rebuild it.
    const other = new RediSearchIndexes(redis, { platform: instant })
    await other.load()
    expect(other.definitions).toEqual([index])
    const creates = redis.sent.filter((command) => command[0] === 'FT.CREATE').length
    expect(await new RediSearchIndexes(redis, { platform: instant }).define(index)).toBe(false)
    expect(redis.sent.filter((command) => command[0] === 'FT.CREATE').length).toBe(creates)
    const changed = parseIndexDefinition({ ...index, prefix: 'e:' })
    expect(await other.define(changed)).toBe(true)
    await other.drop('docs')
    expect(other.definitions).toEqual([])
    await expect(other.drop('docs')).rejects.toBeInstanceOf(NotFoundError)
    expect(redis.indexes.size).toBe(0)
    expect(redis.hashes.get('t:x:search-definitions')?.size).toBe(0)
  })

  it('refuses a search while RediSearch is still backfilling (IndexBuildingError), then answers', async () => {
    const redis = new FakeRediSearch()
    const writer = new RediSearchIndexes(redis, { platform: instant })
    await writer.define(index)
    // Another instance redefined it meanwhile and its backfill is running.
    redis.indexes.get('t:x:search:docs')!.polls = 1
    const reader = new RediSearchIndexes(redis)
    await reader.load()
    const request = parseSearchRequest({ index: 'docs', query: { eq: { field: 'kind', value: 'x' } } })
    await expect(reader.search(request, NOW)).rejects.toBeInstanceOf(IndexBuildingError)
    await expect(reader.search(request, NOW)).resolves.toEqual({ items: [], cursor: null })
    // Once built, it does not ask FT.INFO again.
    const infos = redis.sent.filter((command) => command[0] === 'FT.INFO').length
    await reader.search(request, NOW)
    expect(redis.sent.filter((command) => command[0] === 'FT.INFO').length).toBe(infos)
  })

  it('sends nothing for a query that can never match, and refuses servers without the modules', async () => {
    const { redis, search } = await fresh()
    const before = redis.sent.length
    const page = await search.search(
      parseSearchRequest({ index: 'docs', query: { eq: { field: 'kind', value: 'x'.repeat(300) } } }),
      NOW,
    )
    expect(page).toEqual({ items: [], cursor: null })
    expect(redis.sent.length).toBe(before)
    const keys = redis.keys
    const send = redis.send.bind(redis)
    expect(
      () =>
        new RediSearchIndexes({ keys, send, capabilities: { json: true, search: false, cluster: false } }),
    ).toThrow(NoTierError)
    expect(
      () =>
        new RediSearchIndexes({ keys, send, capabilities: { json: false, search: false, cluster: false } }),
    ).toThrow(NoTierError)
    expect(
      () => new RediSearchIndexes({ keys, send, capabilities: { json: true, search: true, cluster: true } }),
    ).toThrow(/Cluster/)
    expect(
      () => new RediSearchIndexes({ keys, send, capabilities: { json: false, search: true, cluster: true } }),
    ).toThrow(/Cluster/)
    // The query engine without RedisJSON is served ON HASH.
    const hashed = new RediSearchIndexes({
      keys,
      send,
      capabilities: { json: false, search: true, cluster: false },
    })
    expect(hashed.keyType).toBe('HASH')
    await expect(
      search.search(parseSearchRequest({ index: 'nope', query: { eq: { field: 'a', value: 'b' } } }), NOW),
    ).rejects.toBeInstanceOf(NotFoundError)
  })

  it('rebuilds an index of the other key type, and refuses to search it meanwhile', async () => {
    // Defined while the server had no RedisJSON (ON HASH over the projection hashes) …
    const redis = new FakeRediSearch(undefined, { json: false })
    redis.put(record('d:1', { kind: 'x' }))
    await new RediSearchIndexes(redis, { platform: instant }).define(index)
    // … then RedisJSON is there: the writes keep JSON documents, which that index does not read.
    const { keys } = redis
    const send = redis.send.bind(redis)
    const capabilities = { json: true, search: true, cluster: false }
    const documents = new FakeRediSearch(keys)
    documents.put(record('d:1', { kind: 'x' }))
    for (const [key, document] of documents.documents) redis.documents.set(key, document)
    const search = new RediSearchIndexes({ keys, send, capabilities }, { platform: instant })
    await search.load()
    const request = parseSearchRequest({ index: 'docs', query: { eq: { field: 'kind', value: 'x' } } })
    await expect(search.search(request, NOW)).rejects.toBeInstanceOf(ConflictError)
    expect(await search.define(index)).toBe(true)
    expect(redis.indexes.get('t:x:search:docs')?.keyType).toBe('JSON')
    expect((await search.search(request, NOW)).items.map((item) => item.id)).toEqual(['d:1'])
    expect(await search.define(index)).toBe(false)
  })
})
