import { parseIndexDefinition, RedisKeyLayout } from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'
import {
  createIndexCommand,
  documentPrefixes,
  dropIndexCommand,
  indexInfoCommand,
  leafPath,
} from '../../../../packages/core/src/search/redisearch/redisearch-schema.ts'

const users = parseIndexDefinition({
  name: 'users',
  prefix: 'user:',
  fields: {
    plan: { type: 'tag', path: '$.plan', sortable: true },
    tags: { type: 'tag', path: '$.tags' },
    age: { type: 'numeric', path: '$.age', sortable: true },
    score: { type: 'numeric', path: '$.stats.score' },
    bio: { type: 'text', path: '$.profile.bio' },
  },
})

describe('FT.CREATE from an index definition', () => {
  it('covers every shard’s documents under the prefix, with one attribute set per field type', () => {
    const layout = new RedisKeyLayout('sync:', 3)
    expect(createIndexCommand(layout, users)).toEqual([
      'FT.CREATE',
      'sync:x:search:users',
      'ON',
      'JSON',
      'PREFIX',
      3,
      'sync:{0}j:user:',
      'sync:{1}j:user:',
      'sync:{2}j:user:',
      'STOPWORDS',
      0,
      'SCHEMA',
      ...['$.x.e', 'AS', 'i_e', 'NUMERIC'],
      ...['$.x.i', 'AS', 'i_id', 'TAG', 'CASESENSITIVE', 'SORTABLE', 'NOINDEX'],
      ...['$.v', 'AS', 'i_v', 'NUMERIC', 'SORTABLE', 'NOINDEX'],
      // A sortable tag: its tags (with missing ones indexed), and its first tag to sort by.
      ...['$.x.p["plan"].t[*]', 'AS', 'f_plan', 'TAG', 'CASESENSITIVE', 'INDEXMISSING'],
      ...['$.x.p["plan"].t[0]', 'AS', 's_plan', 'TAG', 'CASESENSITIVE', 'SORTABLE', 'NOINDEX'],
      ...['$.x.p["tags"].t[*]', 'AS', 'f_tags', 'TAG', 'CASESENSITIVE'],
      // A number: the two halves of its key, sortable, the high one telling missing values apart.
      ...['$.x.p["age"].h', 'AS', 'h_age', 'NUMERIC', 'INDEXMISSING', 'SORTABLE'],
      ...['$.x.p["age"].l', 'AS', 'l_age', 'NUMERIC', 'SORTABLE'],
      ...['$.x.p["stats.score"].h', 'AS', 'h_score', 'NUMERIC'],
      ...['$.x.p["stats.score"].l', 'AS', 'l_score', 'NUMERIC'],
      // Text: its words as tags.
      ...['$.x.p["profile.bio"].w[*]', 'AS', 'f_bio', 'TAG', 'CASESENSITIVE'],
    ])
  })

  it('on a server without RedisJSON: ON HASH over the projection hashes, with the same attribute names', () => {
    const layout = new RedisKeyLayout('sync:', 3)
    // Hash fields are the kind letter and the term code of the dotted path (search-projection-hash.ts).
    const tag = ['TAG', 'SEPARATOR', ',', 'CASESENSITIVE']
    expect(createIndexCommand(layout, users, 'HASH')).toEqual([
      'FT.CREATE',
      'sync:x:search:users',
      'ON',
      'HASH',
      'PREFIX',
      3,
      'sync:{0}h:user:',
      'sync:{1}h:user:',
      'sync:{2}h:user:',
      'STOPWORDS',
      0,
      'SCHEMA',
      ...['e', 'AS', 'i_e', 'NUMERIC'],
      ...['i', 'AS', 'i_id', ...tag, 'SORTABLE', 'UNF', 'NOINDEX'],
      ...['v', 'AS', 'i_v', 'NUMERIC', 'SORTABLE', 'NOINDEX'],
      ...['t_v706c616e', 'AS', 'f_plan', ...tag, 'INDEXMISSING'],
      // The first tag has a field of its own: a SORTABLE TAG ON HASH keeps the whole field value.
      ...['s_v706c616e', 'AS', 's_plan', ...tag, 'SORTABLE', 'UNF', 'NOINDEX'],
      ...['t_v74616773', 'AS', 'f_tags', ...tag],
      ...['h_v616765', 'AS', 'h_age', 'NUMERIC', 'INDEXMISSING', 'SORTABLE'],
      ...['l_v616765', 'AS', 'l_age', 'NUMERIC', 'SORTABLE'],
      ...['h_v73746174732e73636f7265', 'AS', 'h_score', 'NUMERIC'],
      ...['l_v73746174732e73636f7265', 'AS', 'l_score', 'NUMERIC'],
      ...['w_v70726f66696c652e62696f', 'AS', 'f_bio', ...tag],
    ])
    const prefixes = documentPrefixes(layout, 'user:', 'HASH')
    for (const id of ['user:1', 'user:é', 'user:']) {
      expect(prefixes.filter((prefix) => layout.searchHashKey(id).startsWith(prefix))).toHaveLength(1)
      expect(prefixes.some((prefix) => layout.docKey(id).startsWith(prefix))).toBe(false)
    }
  })

  it('takes the prefixes from the key layout, so every document key of the index is under one', () => {
    const layout = new RedisKeyLayout('p*[x]:', 16)
    const prefixes = documentPrefixes(layout, 'user:')
    expect(prefixes).toHaveLength(16)
    for (const id of ['user:1', 'user:é', 'user:😀', 'user:']) {
      expect(prefixes.filter((prefix) => layout.docKey(id).startsWith(prefix))).toHaveLength(1)
    }
    expect(prefixes.some((prefix) => layout.docKey('users:1').startsWith(prefix))).toBe(false)
    // An empty index prefix covers every document of the layout, and nothing of another one.
    expect(documentPrefixes(layout, '')[0]).toBe('p*[x]:{0}j:')
    expect(leafPath({ type: 'tag', path: '$.a.b_c.d', sortable: false })).toBe('$.x.p["a.b_c.d"]')
  })

  it('drops the index without DD (the documents are L2’s) and reads its state with FT.INFO', () => {
    const layout = new RedisKeyLayout('sync:', 1)
    expect(dropIndexCommand(layout, 'users')).toEqual(['FT.DROPINDEX', 'sync:x:search:users'])
    expect(indexInfoCommand(layout, 'users')).toEqual(['FT.INFO', 'sync:x:search:users'])
  })
})
