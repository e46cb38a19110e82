import {
  parseIndexDefinition,
  parseSearchRequest,
  type SearchDocument,
  type SearchQuery,
  searchInMemory,
} from '@sync-engine/core/internal'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

const index = parseIndexDefinition({
  name: 'docs',
  prefix: 'd:',
  fields: {
    kind: { type: 'tag', path: '$.kind', sortable: true },
    n: { type: 'numeric', path: '$.n', sortable: true },
    body: { type: 'text', path: '$.body' },
  },
})

const idChar = fc.constantFrom('a', 'b', 'Z', 'é', '\uFFFD', '😀', '%', '_')
const id = fc.string({ unit: idChar, minLength: 1, maxLength: 4 }).map((rest) => `d:${rest}`)
const kind = fc.constantFrom('x', 'y', 'X', 'y z')
const value = fc.record(
  {
    kind: fc.oneof(kind, fc.array(kind, { maxLength: 2 }), fc.boolean()),
    n: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(0.5, '2')),
    body: fc.constantFrom('alpha beta', 'Beta_gamma', 'ALPHA', 'é alpha'),
  },
  { requiredKeys: [] },
)
const documents = fc.uniqueArray(fc.record({ id, value, version: fc.nat() }), {
  selector: (doc) => doc.id,
  maxLength: 40,
})
const leaf: fc.Arbitrary<SearchQuery> = fc.oneof(
  kind.map((v) => ({ eq: { field: 'kind', value: v } })),
  fc.integer({ min: -3, max: 3 }).map((v) => ({ eq: { field: 'n', value: v } })),
  fc.integer({ min: -3, max: 3 }).map((v) => ({ range: { field: 'n', gte: v } })),
  fc.constantFrom('alpha', 'beta', 'gamma alpha').map((terms) => ({ text: { terms } })),
  fc.constantFrom('x', 'y').map((v) => ({ prefix: { field: 'kind', value: v } })),
)
const query: fc.Arbitrary<SearchQuery> = fc.oneof(
  leaf,
  leaf.map((q) => ({ not: q })),
  fc.array(leaf, { minLength: 1, maxLength: 3 }).map((qs) => ({ or: qs })),
  fc.array(leaf, { minLength: 1, maxLength: 3 }).map((qs) => ({ and: qs })),
)
const sort = fc.option(
  fc.record({ field: fc.constantFrom('kind', 'n'), order: fc.constantFrom('asc', 'desc') }),
  {
    nil: undefined,
  },
)

function pageThrough(
  docs: () => SearchDocument[],
  base: Record<string, unknown>,
  limit: number,
  between?: (page: number) => void,
): string[] {
  const seen: string[] = []
  let cursor: string | null = null
  for (let page = 0; page < 100; page++) {
    const request = parseSearchRequest({ index: 'docs', ...base, limit, ...(cursor && { cursor }) })
    const result = searchInMemory(index, request, docs())
    seen.push(...result.items.map((item) => item.id))
    cursor = result.cursor
    if (cursor === null) return seen
    between?.(page)
  }
  throw new Error('paging did not end')
}

describe('search paging (keyset cursors)', () => {
  it('pages of any size concatenate to the one-page answer', () => {
    fc.assert(
      fc.property(documents, query, sort, fc.integer({ min: 1, max: 7 }), (docs, q, s, limit) => {
        const base = { query: q, ...(s && { sort: s }) }
        const whole = searchInMemory(index, parseSearchRequest({ index: 'docs', ...base, limit: 1000 }), docs)
        expect(pageThrough(() => docs, base, limit)).toEqual(whole.items.map((item) => item.id))
      }),
    )
  })

  it('writes between pages never make an item appear twice, and items present throughout appear once', () => {
    fc.assert(
      fc.property(
        documents,
        documents,
        query,
        sort,
        fc.integer({ min: 1, max: 5 }),
        (docs, later, q, s, limit) => {
          const base = { query: q, ...(s && { sort: s }) }
          const current = [...docs]
          const arriving = later.filter((doc) => !docs.some((d) => d.id === doc.id))
          const seen = pageThrough(
            () => current,
            base,
            limit,
            () => {
              const next = arriving.shift()
              if (next) current.push(next)
            },
          )
          expect(new Set(seen).size).toBe(seen.length)
          const throughout = searchInMemory(
            index,
            parseSearchRequest({ index: 'docs', ...base, limit: 1000 }),
            docs,
          )
          for (const item of throughout.items) expect(seen).toContain(item.id)
        },
      ),
    )
  })
})
