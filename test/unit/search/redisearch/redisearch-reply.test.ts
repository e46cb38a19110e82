import { BackendError, type RedisReply } from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'
import { numberKey } from '../../../../packages/core/src/search/redisearch/number-key.ts'
import {
  parseAggregateRows,
  parseIndexInfo,
} from '../../../../packages/core/src/search/redisearch/redisearch-reply.ts'
import { encodeTerm } from '../../../../packages/core/src/search/redisearch/term-code.ts'

const bytes = (text: string) => new TextEncoder().encode(text)

describe('FT.AGGREGATE replies', () => {
  it('give ids decoded from the id code, versions, and no sort value when unsorted', () => {
    // Drivers hand bulk strings back as bytes or text, and may add fields of their own.
    const reply = [
      2,
      [bytes('i_v'), bytes('3'), bytes('i_id'), bytes(encodeTerm('user:é'))],
      ['i_id', encodeTerm('a'), 'i_v', 9, 'x', 'y'],
    ]
    expect(parseAggregateRows(reply, { kind: 'none' })).toEqual([
      { id: 'user:é', version: 3 },
      { id: 'a', version: 9 },
    ])
  })

  it('rebuild a number sort value exactly from its key halves, and decode a tag sort value', () => {
    const { h, l } = numberKey(0.30000000000000004)
    const row = ['i_id', encodeTerm('a'), 'i_v', '1', 'h_n', String(h), 'l_n', String(l)]
    expect(parseAggregateRows([1, row], { kind: 'numeric', field: 'n' })).toEqual([
      { id: 'a', version: 1, sortValue: 0.30000000000000004 },
    ])
    const tagged = ['i_id', encodeTerm('a'), 'i_v', '1', 's_kind', encodeTerm('Pro ')]
    expect(parseAggregateRows([1, tagged], { kind: 'tag', field: 'kind' })).toEqual([
      { id: 'a', version: 1, sortValue: 'Pro ' },
    ])
    expect(parseAggregateRows([1, ['i_id', encodeTerm('a'), 'i_v', '1']], { kind: 'missing' })).toEqual([
      { id: 'a', version: 1, sortValue: null },
    ])
    expect(parseAggregateRows([0], { kind: 'none' })).toEqual([])
  })

  it('are refused as a BackendError when a row is not one the backend asked for', () => {
    const cases: unknown[][] = [
      [1, ['i_v', '1']],
      [1, ['i_id', 'user:1', 'i_v', '1']],
      [1, ['i_id', encodeTerm('a'), 'i_v', '1.5']],
      [1, ['i_id', encodeTerm('a'), 'i_v', '1', 'h_n', '4294967296', 'l_n', '0']],
      [1, 'not a row'],
    ]
    for (const reply of cases) {
      expect(() => parseAggregateRows(reply as never, { kind: 'numeric', field: 'n' })).toThrow(BackendError)
    }
  })
})

describe('FT.INFO replies', () => {
  it('say whether the backfill still runs, how far, and how many documents were refused', () => {
    expect(
      parseIndexInfo([
        'index_name',
        'ix',
        'attributes',
        [['identifier', '$.a']],
        'num_docs',
        '12',
        'indexing',
        1,
        'percent_indexed',
        bytes('0.25'),
        'hash_indexing_failures',
        0,
      ]),
    ).toEqual({ indexing: true, percentIndexed: 0.25, documents: 12, failures: 0 })
    expect(parseIndexInfo(['indexing', '0', 'num_docs', 3])).toEqual({
      indexing: false,
      percentIndexed: 1,
      documents: 3,
      failures: 0,
    })
  })
  it('say which key type the index reads, from its index_definition', () => {
    const info = (keyType: string | Uint8Array): RedisReply => [
      'index_name',
      'ix',
      'index_definition',
      [bytes('key_type'), keyType, 'prefixes', [bytes('p:{0}h:')], 'default_score', bytes('1')],
      'num_docs',
      '0',
    ]
    expect(parseIndexInfo(info(bytes('HASH'))).keyType).toBe('HASH')
    expect(parseIndexInfo(info('JSON')).keyType).toBe('JSON')
    expect(parseIndexInfo(['num_docs', '0']).keyType).toBeUndefined()
  })
})
