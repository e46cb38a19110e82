import {
  checkQuery,
  compareCodePoints,
  type IndexDefinition,
  InvalidArgumentError,
  normalizeText,
  parseIndexDefinition,
  parseSearchRequest,
  projectValue,
  type SearchDocument,
  searchInMemory,
} from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'

const users: IndexDefinition = parseIndexDefinition({
  name: 'users',
  prefix: 'user:',
  fields: {
    plan: { type: 'tag', path: '$.plan', sortable: true },
    age: { type: 'numeric', path: '$.age', sortable: true },
    bio: { type: 'text', path: '$.bio' },
    city: { type: 'tag', path: '$.address.city' },
    note: { type: 'text', path: '$.note' },
  },
})

const refusal = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError)
    return (error as Error).message
  }
  throw new Error('expected an InvalidArgumentError')
}

const search = (documents: SearchDocument[], request: Record<string, unknown>) =>
  searchInMemory(users, parseSearchRequest({ index: 'users', ...request }), documents)
const ids = (documents: SearchDocument[], request: Record<string, unknown>) =>
  search(documents, request).items.map((item) => item.id)

const doc = (id: string, value: unknown, version = 1): SearchDocument => ({ id, version, value })

describe('index definitions', () => {
  it('takes the contract shape and defaults sortable to false', () => {
    expect(users.fields.bio).toEqual({ type: 'text', path: '$.bio', sortable: false })
    expect(users.fields.city?.path).toBe('$.address.city')
  })

  it('refuses bad definitions, naming the member', () => {
    const base = { name: 'x', prefix: '', fields: { a: { type: 'tag', path: '$.a' } } }
    expect(refusal(() => parseIndexDefinition({ ...base, name: '9lives' }))).toMatch(/name/)
    expect(refusal(() => parseIndexDefinition({ ...base, fields: {} }))).toMatch(/at least one field/)
    expect(
      refusal(() => parseIndexDefinition({ ...base, fields: { a: { type: 'geo', path: '$.a' } } })),
    ).toMatch(/fields\.a\.type/)
    expect(
      refusal(() => parseIndexDefinition({ ...base, fields: { a: { type: 'tag', path: 'a.b' } } })),
    ).toMatch(/fields\.a\.path/)
    expect(
      refusal(() =>
        parseIndexDefinition({ ...base, fields: { a: { type: 'text', path: '$.a', sortable: true } } }),
      ),
    ).toMatch(/cannot be sortable/)
    expect(refusal(() => parseIndexDefinition({ ...base, extra: 1 }))).toMatch(/extra|Unrecognized/i)
  })
})

describe('search requests', () => {
  it('defaults limit to 100 and values to false; limit is 1–1000', () => {
    expect(
      parseSearchRequest({ index: 'users', query: { eq: { field: 'plan', value: 'pro' } } }),
    ).toMatchObject({
      limit: 100,
      values: false,
    })
    expect(
      refusal(() =>
        parseSearchRequest({ index: 'users', query: { eq: { field: 'plan', value: 'x' } }, limit: 0 }),
      ),
    ).toMatch(/limit/)
    expect(
      refusal(() =>
        parseSearchRequest({ index: 'users', query: { eq: { field: 'plan', value: 'x' } }, limit: 1001 }),
      ),
    ).toMatch(/limit/)
  })

  it('refuses unknown operators, half ranges and doubled bounds, naming them', () => {
    const bad = (query: unknown) => refusal(() => parseSearchRequest({ index: 'users', query }))
    expect(bad({ like: { field: 'bio', value: 'x' } })).toMatch(/query/)
    expect(bad({ range: { field: 'age' } })).toMatch(/needs a bound/)
    expect(bad({ range: { field: 'age', gte: 1, gt: 2 } })).toMatch(/gte or gt/)
    expect(bad({ and: [] })).toMatch(/query/)
    expect(bad({ tags: { field: 'plan', any: [] } })).toMatch(/query/)
  })

  it('names the member at fault in a bad query, not only "query"', () => {
    const bad = (query: unknown) => refusal(() => parseSearchRequest({ index: 'users', query }))
    expect(bad({ text: { field: 'bio', terms: ['ada'] } })).toMatch(/query\.text\.terms: .*expected string/)
    expect(
      bad({ and: [{ eq: { field: 'plan', value: 'pro' } }, { tags: { field: 'plan', any: 'pro' } }] }),
    ).toMatch(/query\.and\.1\.tags\.any: .*expected array/)
    expect(bad({ like: { field: 'bio', value: 'x' } })).toMatch(/Unrecognized key: "like"/)
    expect(bad({})).toMatch(/exactly one operator: eq, tags, range, text, prefix, and, or, not/)
    expect(bad({ eq: { field: 'plan', value: 'pro' }, not: { eq: { field: 'plan', value: 'x' } } })).toMatch(
      /exactly one operator/,
    )
    // An operator given as undefined is not one: the node is the other operator alone.
    const request = parseSearchRequest({
      index: 'users',
      query: { eq: undefined, prefix: { field: 'plan', value: 'p' } },
    })
    expect(request.query).toEqual({ prefix: { field: 'plan', value: 'p' } })
    expect('eq' in request.query).toBe(false)
  })

  it('checks fields against the index: unknown, wrong type, wrong value type, no words, unsortable sort', () => {
    const check = (query: unknown, sort?: unknown) =>
      refusal(() => {
        const request = parseSearchRequest({ index: 'users', query, ...(sort !== undefined && { sort }) })
        checkQuery(users, request.query, request.sort)
      })
    expect(check({ and: [{ eq: { field: 'plan', value: 'a' } }, { eq: { field: 'agee', value: 1 } }] })).toBe(
      'query.and.1.eq.field: index users has no field "agee"',
    )
    expect(check({ eq: { field: 'bio', value: 'x' } })).toMatch(/eq does not apply to text field "bio"/)
    expect(check({ eq: { field: 'age', value: '42' } })).toMatch(/takes a number/)
    expect(check({ range: { field: 'plan', gte: 1 } })).toMatch(/range does not apply to tag/)
    expect(check({ text: { terms: ' !? ' } })).toMatch(/no words/)
    expect(check({ eq: { field: 'plan', value: 'a' } }, { field: 'bio', order: 'asc' })).toMatch(
      /sort\.field/,
    )
  })
})

describe('the reference semantics', () => {
  const documents = [
    doc('user:ada', {
      plan: 'pro',
      age: 36,
      bio: 'Zoë writes  engines_and Compilers',
      address: { city: 'London' },
    }),
    doc('user:bob', { plan: 'Pro', age: '41', bio: 'likes compilers', note: 'writes' }),
    doc('user:cy', { plan: ['free', 'beta'], age: 29, flags: true }),
    doc('user:dee', { plan: true, age: 52.5, bio: ['gardens', 'and engines'] }),
    doc('team:ada', { plan: 'pro', age: 36 }),
    doc('user:eve', 'not an object'),
  ]

  it('projects: numbers only from JSON numbers, booleans as tags, arrays of strings, nested paths', () => {
    expect(projectValue(users, { age: '41' }).has('age')).toBe(false)
    expect(projectValue(users, { plan: true }).get('plan')).toEqual({ type: 'tag', tags: ['true'] })
    expect(projectValue(users, { plan: ['a', 1, 'b'] }).get('plan')).toEqual({
      type: 'tag',
      tags: ['a', 'b'],
    })
    expect(projectValue(users, { address: { city: 'Oslo' } }).get('city')).toEqual({
      type: 'tag',
      tags: ['Oslo'],
    })
    expect(projectValue(users, 'text').size).toBe(0)
    expect(normalizeText('Zoë writes  engines_and\nCompilers!')).toBe('zoe writes engines and compilers')
  })

  it('eq is exact and case-sensitive on tags, and on numbers only for JSON numbers; only under the prefix', () => {
    expect(ids(documents, { query: { eq: { field: 'plan', value: 'pro' } } })).toEqual(['user:ada'])
    expect(ids(documents, { query: { eq: { field: 'age', value: 36 } } })).toEqual(['user:ada'])
    expect(ids(documents, { query: { eq: { field: 'age', value: 41 } } })).toEqual([])
    expect(ids(documents, { query: { tags: { field: 'plan', any: ['beta', 'true'] } } })).toEqual([
      'user:cy',
      'user:dee',
    ])
  })

  it('range bounds are inclusive or exclusive as asked', () => {
    expect(ids(documents, { query: { range: { field: 'age', gte: 29, lt: 52.5 } } })).toEqual([
      'user:ada',
      'user:cy',
    ])
    expect(ids(documents, { query: { range: { field: 'age', gt: 29, lte: 52.5 } } })).toEqual([
      'user:ada',
      'user:dee',
    ])
  })

  it('text: every word must appear, after normalisation; without a field, in any text field', () => {
    expect(ids(documents, { query: { text: { field: 'bio', terms: 'ZOE compilers' } } })).toEqual([
      'user:ada',
    ])
    expect(ids(documents, { query: { text: { field: 'bio', terms: 'engines' } } })).toEqual([
      'user:ada',
      'user:dee',
    ])
    expect(ids(documents, { query: { text: { terms: 'compilers writes' } } })).toEqual([
      'user:ada',
      'user:bob',
    ])
    expect(ids(documents, { query: { text: { field: 'bio', terms: 'engine' } } })).toEqual([])
  })

  it('prefix is literal on tags; not matches items missing the field; and/or combine', () => {
    expect(ids(documents, { query: { prefix: { field: 'plan', value: 'P' } } })).toEqual(['user:bob'])
    expect(ids(documents, { query: { prefix: { field: 'city', value: 'Lon%' } } })).toEqual([])
    expect(ids(documents, { query: { not: { eq: { field: 'plan', value: 'pro' } } } })).toEqual([
      'user:bob',
      'user:cy',
      'user:dee',
      'user:eve',
    ])
    expect(
      ids(documents, {
        query: {
          or: [{ eq: { field: 'plan', value: 'Pro' } }, { and: [{ range: { field: 'age', gt: 50 } }] }],
        },
      }),
    ).toEqual(['user:bob', 'user:dee'])
  })

  it('sorts by a sortable field with ties by id in the same direction, missing values last either way', () => {
    const sorted = [
      doc('user:1', { age: 5 }),
      doc('user:2', { age: 3 }),
      doc('user:3', {}),
      doc('user:4', { age: 5 }),
    ]
    const all = { not: { eq: { field: 'plan', value: '-' } } }
    expect(ids(sorted, { query: all, sort: { field: 'age', order: 'asc' } })).toEqual([
      'user:2',
      'user:1',
      'user:4',
      'user:3',
    ])
    expect(ids(sorted, { query: all, sort: { field: 'age', order: 'desc' } })).toEqual([
      'user:4',
      'user:1',
      'user:2',
      'user:3',
    ])
  })

  it('orders ids by UTF-8 bytes (code points), not UTF-16 units', () => {
    const tricky = ['user:\uFFFD', 'user:😀', 'user:a', 'user:é']
    const all = { not: { eq: { field: 'plan', value: '-' } } }
    expect(
      ids(
        tricky.map((id) => doc(id, {})),
        { query: all },
      ),
    ).toEqual(['user:a', 'user:é', 'user:\uFFFD', 'user:😀'])
    expect(compareCodePoints('😀', '\uFFFD')).toBeGreaterThan(0)
    expect(compareCodePoints('a', 'ab')).toBeLessThan(0)
  })

  it('pages with a cursor: every item once, in order; a cursor of another query is refused', () => {
    const many = Array.from({ length: 25 }, (_, n) =>
      doc(`user:${String(n).padStart(2, '0')}`, { age: n % 4 }),
    )
    const request = {
      query: { range: { field: 'age', gte: 0 } },
      sort: { field: 'age', order: 'desc' },
      limit: 7,
    }
    const seen: string[] = []
    let cursor: string | null | undefined
    do {
      const page = search(many, { ...request, ...(cursor && { cursor }) })
      seen.push(...page.items.map((item) => item.id))
      cursor = page.cursor
    } while (cursor)
    expect(seen).toEqual(ids(many, { ...request, limit: 1000 }))
    const first = search(many, request).cursor!
    expect(
      refusal(() => search(many, { ...request, sort: { field: 'age', order: 'asc' }, cursor: first })),
    ).toMatch(/another query/)
    expect(refusal(() => search(many, { ...request, cursor: 'not-a-cursor!' }))).toMatch(/cursor/)
  })
})
