import { parseIndexDefinition } from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'
import { numberKey } from '../../../../packages/core/src/search/redisearch/number-key.ts'
import { pageCommand } from '../../../../packages/core/src/search/redisearch/redisearch-page-command.ts'
import { encodeTerm } from '../../../../packages/core/src/search/redisearch/term-code.ts'

const definition = parseIndexDefinition({
  name: 'users',
  prefix: 'user:',
  fields: {
    plan: { type: 'tag', path: '$.plan', sortable: true },
    age: { type: 'numeric', path: '$.age', sortable: true },
  },
})
const base = {
  index: 'sync:x:search:users',
  definition,
  query: { eq: { field: 'plan', value: 'pro' } },
  rows: 11,
  now: 1_700_000_000_000,
  timeoutMs: 0,
} as const
const live = '(@i_e:[0 0]|@i_e:[($p1 +inf])'
const tail = (...values: string[]) => [
  'PARAMS',
  values.length * 2,
  ...values.flatMap((value, i) => [`p${i}`, value]),
  'DIALECT',
  2,
]
const pro = encodeTerm('pro')
const now = String(base.now)

describe('FT.AGGREGATE for a page', () => {
  it('unsorted: live items in id order (the id code), limit rows', () => {
    expect(pageCommand({ ...base, phase: 'all' })).toEqual([
      'FT.AGGREGATE',
      'sync:x:search:users',
      `(@f_plan:{$p0}) ${live}`,
      ...['LOAD', 1, '@i_v', 'TIMEOUT', 0],
      ...['SORTBY', 2, '@i_id', 'ASC', 'MAX', 11, 'LIMIT', 0, 11],
      ...tail(pro, now),
    ])
  })

  it('unsorted, continuing: strictly after the id of the cursor, inlined as its code', () => {
    const command = pageCommand({ ...base, phase: 'all', after: { id: "user:'x" } })
    expect(command?.slice(8, 10)).toEqual(['FILTER', `@i_id > '${encodeTerm("user:'x")}'`])
  })

  it('sorted by a tag, ascending: items with a value, by first tag then id', () => {
    const sort = { field: 'plan', order: 'asc' } as const
    expect(pageCommand({ ...base, sort, phase: 'valued' })).toEqual([
      'FT.AGGREGATE',
      'sync:x:search:users',
      `(@f_plan:{$p0}) ${live} (-ismissing(@f_plan))`,
      ...['LOAD', 1, '@i_v', 'TIMEOUT', 0],
      ...['SORTBY', 4, '@s_plan', 'ASC', '@i_id', 'ASC', 'MAX', 11, 'LIMIT', 0, 11],
      ...tail(pro, now),
    ])
    const after = pageCommand({ ...base, sort, phase: 'valued', after: { id: 'user:1', value: 'pro' } })
    expect(after?.slice(8, 10)).toEqual([
      'FILTER',
      `@s_plan > '${pro}' || (@s_plan == '${pro}' && (@i_id > '${encodeTerm('user:1')}'))`,
    ])
  })

  it('sorted by a number, descending, continuing: halves then id, all descending, narrowed by h', () => {
    const sort = { field: 'age', order: 'desc' } as const
    const { h, l } = numberKey(-2.5)
    expect(pageCommand({ ...base, sort, phase: 'valued', after: { id: 'user:9', value: -2.5 } })).toEqual([
      'FT.AGGREGATE',
      'sync:x:search:users',
      `(@f_plan:{$p0}) ${live} (-ismissing(@h_age)) (@h_age:[-inf $p2])`,
      ...['LOAD', 1, '@i_v', 'TIMEOUT', 0],
      'FILTER',
      `@h_age < ${h} || (@h_age == ${h} && (@l_age < ${l} || (@l_age == ${l} && (@i_id < '${encodeTerm('user:9')}'))))`,
      ...['SORTBY', 6, '@h_age', 'DESC', '@l_age', 'DESC', '@i_id', 'DESC', 'MAX', 11, 'LIMIT', 0, 11],
      ...tail(pro, now, String(h)),
    ])
  })

  it('the missing phase: items without a value, by id in the sort’s direction', () => {
    const sort = { field: 'age', order: 'desc' } as const
    expect(pageCommand({ ...base, sort, phase: 'missing', after: { id: 'user:9' }, rows: 3 })).toEqual([
      'FT.AGGREGATE',
      'sync:x:search:users',
      `(@f_plan:{$p0}) ${live} (ismissing(@h_age))`,
      ...['LOAD', 1, '@i_v', 'TIMEOUT', 0],
      'FILTER',
      `@i_id < '${encodeTerm('user:9')}'`,
      ...['SORTBY', 2, '@i_id', 'DESC', 'MAX', 3, 'LIMIT', 0, 3],
      ...tail(pro, now),
    ])
  })

  it('a query that always matches is the liveness alone; one that never does sends nothing', () => {
    const always = pageCommand({
      ...base,
      query: { not: { eq: { field: 'plan', value: 'x'.repeat(300) } } },
      phase: 'all',
    })
    expect(always?.[2]).toBe('(@i_e:[0 0]|@i_e:[($p0 +inf])')
    expect(
      pageCommand({ ...base, query: { eq: { field: 'plan', value: 'x'.repeat(300) } }, phase: 'all' }),
    ).toBe(undefined)
    expect(pageCommand({ ...base, phase: 'all', timeoutMs: 250 })?.slice(6, 8)).toEqual(['TIMEOUT', 250])
  })
})
