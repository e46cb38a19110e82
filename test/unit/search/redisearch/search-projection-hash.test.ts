import { type StoredRecord, SyncItem } from '@sync-engine/core/internal'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { searchHashArguments } from '../../../../packages/core/src/l2/search-hash.ts'
import {
  type SearchLeaf,
  searchProjectionDocument,
} from '../../../../packages/core/src/search/redisearch/search-projection-document.ts'
import {
  hashField,
  searchProjectionHash,
} from '../../../../packages/core/src/search/redisearch/search-projection-hash.ts'
import { decodeTerm } from '../../../../packages/core/src/search/redisearch/term-code.ts'

// Property names an index can address and ones it cannot, with values of every JSON type.
const name = fc.constantFrom('a', 'b', 'plan', '_x', 't', 'v', '__proto__', 'a-b', '1a', 'é', 'x,y')
const scalar = fc.oneof(
  fc.constantFrom('pro', 'Pro', ' pro', 'x y', 'a,b', '', 'é', 'Zoë writes engines', 'x'.repeat(256)),
  fc.string({ maxLength: 6 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e300, 0.30000000000000004),
  fc.boolean(),
  fc.constant(null),
)
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 3 }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc
    .array(fc.tuple(name, tie('value')), { maxLength: 4 })
    .map((entries) => Object.fromEntries(entries)),
}))

/** The hash read back the way RediSearch reads it ON HASH: per path, what each kind of field holds. */
function unflatten(pairs: readonly string[]): { top: Map<string, string>; leaves: Map<string, SearchLeaf> } {
  const top = new Map<string, string>()
  const leaves = new Map<string, { t?: string[]; w?: string[]; h?: number; l?: number; s?: string }>()
  for (let i = 0; i < pairs.length; i += 2) {
    const [field, text] = [pairs[i]!, pairs[i + 1]!]
    const named = /^([tswhl])_(v[0-9a-z]*)$/.exec(field)
    if (named === null) {
      top.set(field, text)
      continue
    }
    const path = decodeTerm(named[2]!)
    const leaf = leaves.get(path) ?? {}
    const kind = named[1]!
    if (kind === 't' || kind === 'w') leaf[kind] = text.split(',')
    else if (kind === 's') leaf.s = text
    else leaf[kind as 'h' | 'l'] = Number(text)
    leaves.set(path, leaf)
  }
  for (const leaf of leaves.values()) {
    // The first tag's own field is the first of the tags, and only there when they are.
    expect(leaf.s).toBe(leaf.t?.[0])
    delete leaf.s
  }
  return { top, leaves }
}

describe('the search projection as a hash (ON HASH without RedisJSON)', () => {
  it('holds the same id, expiry, tags, words and number keys as the x projection, in field names of [a-z0-9_]', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 4 }), value, fc.nat(), (id, content, expiresAt) => {
        const projection = searchProjectionDocument(id, content, expiresAt)
        const pairs = searchProjectionHash(projection)
        const fields = pairs.filter((_, i) => i % 2 === 0)
        expect(new Set(fields).size).toBe(fields.length)
        for (const field of fields) expect(field).toMatch(/^[a-z0-9_]+$/)
        // A tag or word is exactly one code between the separators: codes hold no ",".
        for (const text of pairs.filter((_, i) => i % 2 === 1)) expect(text).toMatch(/^[a-z0-9,]+$/)
        const { top, leaves } = unflatten(pairs)
        expect(top).toEqual(
          new Map([
            ['i', projection.i],
            ['e', String(projection.e)],
          ]),
        )
        expect(Object.fromEntries(leaves)).toEqual(projection.p)
      }),
      { numRuns: 500 },
    )
  })

  it('is empty for a tombstone or a binary item (no projection)', () => {
    expect(searchProjectionHash(null)).toEqual([])
  })

  it('sends the script the version, TTL, repair flag and the fields (golden)', () => {
    const item = SyncItem.fromJson('doc', { name: 'Zoë', tags: ['a', 'b,c'], n: 2 }, { state: 'live' })
    const record: StoredRecord = { ...item, version: 5, updatedAt: 9, tombstone: false, expiresAt: 77 }
    expect(searchHashArguments(record, 1000, false)).toEqual([
      5,
      1000,
      0,
      ...['i', 'v646f63', 'e', '77'],
      // name: tag "Zoë" and word "zoe"
      ...[hashField('t', 'name'), 'v5a6f800eb', hashField('s', 'name'), 'v5a6f800eb'],
      ...[hashField('w', 'name'), 'v7a6f65'],
      // tags: two tags (the "," inside a tag is inside its code) and the words a, b, c
      ...[hashField('t', 'tags'), 'v61,v622c63', hashField('s', 'tags'), 'v61'],
      ...[hashField('w', 'tags'), 'v61,v62,v63'],
      // n: the halves of its number key
      ...[hashField('h', 'n'), String(0xc000_0000), hashField('l', 'n'), '0'],
    ])
    expect(hashField('t', 'name')).toBe('t_v6e616d65')
    const tomb: StoredRecord = { ...record, tombstone: true, content: null }
    expect(searchHashArguments(tomb, 60_000, true)).toEqual([5, 60_000, 1])
    const binary: StoredRecord = { ...record, contentType: 'binary', content: Uint8Array.of(1) }
    expect(searchHashArguments(binary, 0, false)).toEqual([5, 0, 0])
  })
})
