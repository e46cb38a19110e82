import {
  type FieldValue,
  parseIndexDefinition,
  projectValue,
  type StoredRecord,
} from '@sync-engine/core/internal'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonDocumentText } from '../../../../packages/core/src/l2/json-document.ts'
import { numberOfKey } from '../../../../packages/core/src/search/redisearch/number-key.ts'
import {
  type SearchLeaf,
  searchProjectionDocument,
} from '../../../../packages/core/src/search/redisearch/search-projection-document.ts'
import { decodeTerm, encodeTerm } from '../../../../packages/core/src/search/redisearch/term-code.ts'

const names = ['a', 'b', 'plan', '_x', 't', '__proto__'] as const
const name = fc.constantFrom(...names)
const scalar = fc.oneof(
  fc.constantFrom(
    'pro',
    'Pro',
    ' pro',
    'x y',
    '',
    'é',
    'Zoë writes engines_and\nCompilers!',
    'x'.repeat(256),
  ),
  fc.constantFrom('é'.repeat(128), '😀', 'true', '42', 'ÉCOLE', 'ﬁne'),
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
    .array(fc.tuple(fc.oneof(name, fc.constantFrom('a-b', '1a', 'é')), tie('value')), { maxLength: 4 })
    .map((entries) => Object.fromEntries(entries)),
}))
const path = fc.array(name, { minLength: 1, maxLength: 3 }).map((segments) => `$.${segments.join('.')}`)

/** What the leaf at a field's path holds for that field's type, as projectValue states it. */
function fromLeaf(type: 'tag' | 'numeric' | 'text', leaf: SearchLeaf | undefined): FieldValue | undefined {
  if (leaf === undefined) return undefined
  if (type === 'numeric') {
    return leaf.h === undefined ? undefined : { type, value: numberOfKey(leaf.h, leaf.l!) }
  }
  if (type === 'tag') return leaf.t === undefined ? undefined : { type, tags: leaf.t.map(decodeTerm) }
  if (leaf.w === undefined) return undefined
  const words = leaf.w.map(decodeTerm)
  return { type, words: new Set(words), text: words.join(' ') }
}

describe('the search projection of a document (x)', () => {
  it('holds, at each path, what projectValue gives every field type there', () => {
    fc.assert(
      fc.property(value, fc.array(path, { minLength: 1, maxLength: 4 }), (document, paths) => {
        const fields: Record<string, { type: 'tag' | 'numeric' | 'text'; path: string }> = {}
        paths.forEach((p, i) => {
          for (const type of ['tag', 'numeric', 'text'] as const) fields[`${type}${i}`] = { type, path: p }
        })
        const definition = parseIndexDefinition({ name: 'ix', prefix: '', fields })
        const expected = projectValue(definition, document)
        const { p } = searchProjectionDocument('id', document, 0)
        for (const [field, { type, path: at }] of Object.entries(fields)) {
          const leaf = Object.hasOwn(p, at.slice(2)) ? p[at.slice(2)] : undefined
          const got = fromLeaf(type, leaf)
          const want = expected.get(field)
          if (want?.type === 'numeric' && got?.type === 'numeric') {
            // -0 is kept as 0: the evaluator finds them equal (===), and so does every comparison.
            expect(got.value === want.value).toBe(true)
          } else if (want?.type === 'text' && got?.type === 'text') {
            // A text field matches by its set of words: a word said twice is kept once.
            expect(got.words).toEqual(want.words)
          } else {
            expect(got).toEqual(want)
          }
        }
      }),
    )
  })

  it('has one JSON type per member, so no value can make RediSearch drop the document', () => {
    fc.assert(
      fc.property(value, (document) => {
        const { p } = searchProjectionDocument('id', document, 0)
        for (const leaf of Object.values(p)) {
          for (const codes of [leaf.t, leaf.w]) {
            if (codes !== undefined) {
              expect(codes.length).toBeGreaterThan(0)
              for (const code of codes) expect(code).toMatch(/^v[0-9a-f]*$/)
            }
          }
          expect(leaf.h === undefined).toBe(leaf.l === undefined)
          for (const half of [leaf.h, leaf.l])
            if (half !== undefined) expect(Number.isInteger(half)).toBe(true)
        }
      }),
    )
  })

  it('addresses dotted paths through objects only, with the id code and expiry beside them', () => {
    const x = searchProjectionDocument(
      'user:1',
      { plan: ['Pro', true, 3, 'Pro'], address: { city: 'Zoë' }, 'a-b': 'skipped', list: [{ c: 'no' }] },
      1234,
    )
    expect(x).toEqual({
      i: encodeTerm('user:1'),
      e: 1234,
      p: {
        plan: { t: [encodeTerm('Pro'), encodeTerm('true')], w: [encodeTerm('pro')] },
        'address.city': { t: [encodeTerm('Zoë')], w: [encodeTerm('zoe')] },
      },
    })
    // A __proto__ property is a path like any other, not the object's prototype.
    const own = searchProjectionDocument('i', JSON.parse('{"__proto__":{"n":1}}'), 0)
    expect(Object.keys(own.p)).toEqual(['__proto__.n'])
  })
})

describe('the j: document (json-document.ts)', () => {
  const record: StoredRecord = {
    id: 'doc',
    version: 5,
    updatedAt: 9,
    hash: 'h',
    state: 'live',
    contentType: 'json',
    mime: 'application/json',
    content: new TextEncoder().encode('{"name":"Zoë","n":[1,2]}'),
    tombstone: false,
    expiresAt: 777,
  }

  it('keeps its fields and adds x, the projection of the content', () => {
    expect(JSON.parse(jsonDocumentText(record))).toEqual({
      v: 5,
      u: 9,
      h: 'h',
      s: 'live',
      m: 'application/json',
      t: 0,
      d: { name: 'Zoë', n: [1, 2] },
      x: { i: encodeTerm('doc'), e: 777, p: { name: { t: [encodeTerm('Zoë')], w: [encodeTerm('zoe')] } } },
    })
    // No expiry is 0 in x (RediSearch matches `i_e = 0` as never expiring).
    const { expiresAt: _, ...forever } = record
    expect(JSON.parse(jsonDocumentText(forever)).x.e).toBe(0)
  })

  it('has x null where d is: tombstones and binary items have no fields', () => {
    const tomb = JSON.parse(jsonDocumentText({ ...record, tombstone: true, content: null }))
    const binary = JSON.parse(
      jsonDocumentText({ ...record, contentType: 'binary', content: Uint8Array.of(1) }),
    )
    expect([tomb.d, tomb.x, binary.d, binary.x]).toEqual([null, null, null, null])
  })
})
