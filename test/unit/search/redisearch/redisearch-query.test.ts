import { parseIndexDefinition, type SearchQuery } from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'
import { numberKey } from '../../../../packages/core/src/search/redisearch/number-key.ts'
import {
  QueryParams,
  translateQuery,
} from '../../../../packages/core/src/search/redisearch/redisearch-query.ts'
import { encodeTerm } from '../../../../packages/core/src/search/redisearch/term-code.ts'

const index = parseIndexDefinition({
  name: 'users',
  prefix: 'user:',
  fields: {
    plan: { type: 'tag', path: '$.plan', sortable: true },
    age: { type: 'numeric', path: '$.age', sortable: true },
    bio: { type: 'text', path: '$.bio' },
    note: { type: 'text', path: '$.meta.note' },
  },
})

function translate(query: SearchQuery, definition = index) {
  const params = new QueryParams()
  const query_ = translateQuery(definition, query, params)
  return { query: query_, params: params.arguments() }
}

/** PARAMS as the command carries them, from the values in order. */
const params = (...values: (string | number)[]) => [
  'PARAMS',
  values.length * 2,
  ...values.flatMap((value, i) => [`p${i}`, String(value)]),
]

const age = (n: number) => numberKey(n)

describe('the query translator (dialect 2, values as PARAMS)', () => {
  it('eq on a tag field: the tag code', () => {
    expect(translate({ eq: { field: 'plan', value: 'Pro' } })).toEqual({
      query: '@f_plan:{$p0}',
      params: params(encodeTerm('Pro')),
    })
  })

  it('eq on a numeric field: both halves of the number key equal', () => {
    const { h, l } = age(0.5)
    expect(translate({ eq: { field: 'age', value: 0.5 } })).toEqual({
      query: '(@h_age:[$p0 $p1] @l_age:[$p2 $p3])',
      params: params(h, h, l, l),
    })
    // -0 and 0 are one number to the evaluator, so one key.
    expect(translate({ eq: { field: 'age', value: -0 } })).toEqual(
      translate({ eq: { field: 'age', value: 0 } }),
    )
  })

  it('tags: any of the codes, each once', () => {
    expect(translate({ tags: { field: 'plan', any: ['a', 'b', 'a'] } })).toEqual({
      query: '@f_plan:{$p0|$p1}',
      params: params(encodeTerm('a'), encodeTerm('b')),
    })
  })

  it('range: each bound kind, exclusive ones with (', () => {
    const k = age(18)
    const m = age(65)
    const atLeast = `(@h_age:[($p0 +inf]|(@h_age:[$p1 $p2] @l_age:[$p3 +inf]))`
    expect(translate({ range: { field: 'age', gte: 18 } })).toEqual({
      query: atLeast,
      params: params(k.h, k.h, k.h, k.l),
    })
    expect(translate({ range: { field: 'age', gt: 18 } })).toEqual({
      query: '(@h_age:[($p0 +inf]|(@h_age:[$p1 $p2] @l_age:[($p3 +inf]))',
      params: params(k.h, k.h, k.h, k.l),
    })
    expect(translate({ range: { field: 'age', lte: 65 } })).toEqual({
      query: '(@h_age:[-inf ($p0]|(@h_age:[$p1 $p2] @l_age:[-inf $p3]))',
      params: params(m.h, m.h, m.h, m.l),
    })
    expect(translate({ range: { field: 'age', lt: 65 } })).toEqual({
      query: '(@h_age:[-inf ($p0]|(@h_age:[$p1 $p2] @l_age:[-inf ($p3]))',
      params: params(m.h, m.h, m.h, m.l),
    })
    expect(translate({ range: { field: 'age', gte: 18, lt: 65 } })).toEqual({
      query: `(${atLeast} (@h_age:[-inf ($p4]|(@h_age:[$p5 $p6] @l_age:[-inf ($p7])))`,
      params: params(k.h, k.h, k.h, k.l, m.h, m.h, m.h, m.l),
    })
  })

  it('text with a field: every distinct normalised word, as word codes', () => {
    expect(translate({ text: { field: 'bio', terms: 'Zoë, ENGINES zoe' } })).toEqual({
      query: '(@f_bio:{$p0} @f_bio:{$p1})',
      params: params(encodeTerm('zoe'), encodeTerm('engines')),
    })
  })

  it('text without a field: each word in any text field of the index', () => {
    expect(translate({ text: { terms: 'zoe engines' } })).toEqual({
      query: '((@f_bio:{$p0}|@f_note:{$p1}) (@f_bio:{$p2}|@f_note:{$p3}))',
      params: params(encodeTerm('zoe'), encodeTerm('zoe'), encodeTerm('engines'), encodeTerm('engines')),
    })
    const noText = parseIndexDefinition({
      name: 'n',
      prefix: '',
      fields: { a: { type: 'tag', path: '$.a' } },
    })
    expect(translate({ text: { terms: 'zoe' } }, noText)).toEqual({ query: false, params: params() })
  })

  it('prefix: the code of the prefix, as a tag prefix', () => {
    expect(translate({ prefix: { field: 'plan', value: 'pr' } })).toEqual({
      query: '@f_plan:{$p0*}',
      params: params(encodeTerm('pr')),
    })
  })

  it('and, or, not nest with every compound node in parentheses', () => {
    expect(
      translate({
        and: [
          { or: [{ eq: { field: 'plan', value: 'a' } }, { not: { eq: { field: 'plan', value: 'b' } } }] },
          {
            not: { and: [{ text: { field: 'bio', terms: 'x' } }, { prefix: { field: 'plan', value: 'c' } }] },
          },
        ],
      }),
    ).toEqual({
      query: '((@f_plan:{$p0}|-(@f_plan:{$p1})) -((@f_bio:{$p2} @f_plan:{$p3*})))',
      params: params(encodeTerm('a'), encodeTerm('b'), encodeTerm('x'), encodeTerm('c')),
    })
  })

  it('folds what can never match (terms too long to be indexed) before anything is sent', () => {
    const long = 'x'.repeat(256)
    expect(translate({ eq: { field: 'plan', value: long } }).query).toBe(false)
    expect(translate({ not: { eq: { field: 'plan', value: long } } }).query).toBe(true)
    expect(translate({ text: { field: 'bio', terms: `ok ${long}` } }).query).toBe(false)
    expect(translate({ tags: { field: 'plan', any: [long, 'ok'] } })).toEqual({
      query: '@f_plan:{$p0}',
      params: params(encodeTerm('ok')),
    })
    expect(
      translate({ or: [{ eq: { field: 'plan', value: long } }, { eq: { field: 'plan', value: 'y' } }] })
        .query,
    ).toBe('@f_plan:{$p0}')
    expect(
      translate({
        and: [{ not: { eq: { field: 'plan', value: long } } }, { eq: { field: 'plan', value: 'y' } }],
      }).query,
    ).toBe('@f_plan:{$p0}')
  })

  it('never puts a user’s text in the query string: hostile values are parameters, as codes', () => {
    const hostile = [
      '*',
      '-',
      '-5',
      '|',
      '{}',
      '}',
      '"q"',
      "it's",
      '\\',
      '$p0',
      'a b',
      'as',
      'inf',
      'é😀',
      '\n',
      '',
    ]
    for (const value of hostile) {
      const queries: SearchQuery[] = [
        { eq: { field: 'plan', value } },
        { tags: { field: 'plan', any: [value, `${value}x`] } },
        {
          or: [{ prefix: { field: 'plan', value: value || 'x' } }, { not: { eq: { field: 'plan', value } } }],
        },
        { text: { field: 'bio', terms: `w ${value}` } },
      ]
      for (const q of queries) {
        const { query, params: args } = translate(q)
        expect(typeof query === 'string' && /^[@a-z_0-9:{}()[\] $|*+-]*$/.test(query), String(query)).toBe(
          true,
        )
        // Every parameter is a term code or an integer: nothing RediSearch would escape, trim or fold.
        for (const arg of args.slice(2).filter((_, i) => i % 2 === 1))
          expect(String(arg)).toMatch(/^(v[0-9a-f]*|\d+)$/)
      }
    }
    expect(translate({ eq: { field: 'plan', value: '{*}|-"$' } }).params).toEqual(
      params(encodeTerm('{*}|-"$')),
    )
  })
})
