import {
  InvalidArgumentError,
  InvalidIdError,
  type L3Store,
  PayloadTooLargeError,
  type StoredRecord,
} from '@sync-engine/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { describeConditionsAndExpiry } from './l3-conditions-expiry.ts'
import {
  binaryRecord,
  byUtf8,
  expectSameRecord,
  jsonRecord,
  MiB,
  patternBytes,
  shuffled,
  T,
  tombstone,
} from './l3-records.ts'

export interface L3Fixture {
  store: L3Store
  cleanup(): Promise<void>
}

/**
 * The behaviour every L3 driver owes the engine, run against each real backend. `makeStore`
 * returns an initialised, empty store of its own (a fresh file or table) for every test.
 */
export function runL3Conformance(name: string, makeStore: () => Promise<L3Fixture>): void {
  describe(name, () => {
    let fixture: L3Fixture
    let store: L3Store

    beforeEach(async () => {
      fixture = await makeStore()
      store = fixture.store
    })
    afterEach(async () => {
      await fixture.cleanup()
    })

    const readOne = async (id: string) => (await store.read([id])).get(id)

    async function scanAll(options: { prefix?: string; pageSize?: number } = {}): Promise<string[]> {
      const pageSize = options.pageSize ?? 3
      const out: string[] = []
      let after: string | undefined
      for (;;) {
        const page = await store.scanIds({
          limit: pageSize,
          ...(after === undefined ? {} : { after }),
          ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
        })
        out.push(...page)
        if (page.length < pageSize) return out
        after = page.at(-1)
      }
    }

    describe('CRUD', () => {
      it('writes, reads, tombstones and reads again', async () => {
        const doc = jsonRecord('doc', 1, '{"title":"first"}')
        expect(await store.write([doc])).toEqual({ applied: 1, stale: [] })
        expectSameRecord(await readOne('doc'), doc)
        expect(await store.count()).toBe(1)

        const dead = tombstone('doc', 2)
        expect(await store.write([dead])).toEqual({ applied: 1, stale: [], deletedLive: ['doc'] })
        expectSameRecord(await readOne('doc'), dead)
        expect(await store.count()).toBe(0)
        expect(await store.scanIds({ limit: 10 })).toEqual([])
      })

      it('reads only the ids that exist, duplicates and empty calls included', async () => {
        await store.write([jsonRecord('a', 1), jsonRecord('b', 1)])
        const found = await store.read(['a', 'missing', 'a', 'b', 'b'])
        expect([...found.keys()].sort()).toEqual(['a', 'b'])
        expect((await store.read([])).size).toBe(0)
        expect(await store.write([])).toEqual({ applied: 0, stale: [] })
      })

      it('init is idempotent and keeps the data', async () => {
        await store.write([jsonRecord('a', 1)])
        await store.init()
        expect((await readOne('a'))?.version).toBe(1)
      })

      it('answers ping', async () => {
        await expect(store.ping()).resolves.toBeUndefined()
      })
    })

    describe('byte fidelity', () => {
      it('returns unicode JSON byte for byte: emoji, CJK, escapes, key order and spacing as written', async () => {
        const texts = {
          unicode: '{"emoji":"😀🎉👩‍👩‍👧","cjk":"日本語 中文 한국어","accents":"éèê","rtl":"שלום"}',
          escapes: String.raw`{"quote":"\"","backslash":"\\","nl":"\n","tab":"\t","nul":"\u0000","ls":"\u2028","e":"\u00e9","pair":"\ud83d\ude00","slash":"\/"}`,
          // What MySQL's JSON type would rewrite: keys out of order, spaces, duplicate keys, big numbers.
          layout: '{"b":1,  "a" : [1,2 ,3],"a":2,"n":12345678901234567890,"f":1.50,"e":1e3}',
          nested: '[{"a":{"b":{"c":[null,true,false,"x"]}}},[],{}]',
        }
        const records = Object.entries(texts).map(([id, text], i) => jsonRecord(id, i + 1, text))
        expect((await store.write(records)).applied).toBe(records.length)
        const found = await store.read(Object.keys(texts))
        for (const record of records) expectSameRecord(found.get(record.id), record)
      })

      it('keeps an empty JSON object and an empty array as {} and []', async () => {
        const object = jsonRecord('object', 1, '{}')
        const array = jsonRecord('array', 1, '[]')
        await store.write([object, array])
        expectSameRecord(await readOne('object'), object)
        expectSameRecord(await readOne('array'), array)
      })

      it('keeps binary with zero bytes and 0xFF, every byte value, and empty binary', async () => {
        const records = [
          binaryRecord('zeros-ff', 1, new Uint8Array([0, 0xff, 0, 0, 0xff, 0xfe, 0x80, 0x7f, 0])),
          binaryRecord(
            'all-bytes',
            1,
            Uint8Array.from({ length: 256 }, (_, i) => i),
          ),
          // Not UTF-8, and a JSON-looking start: still binary.
          binaryRecord('not-utf8', 1, new Uint8Array([0x7b, 0xc3, 0x28, 0xa0, 0xa1, 0x7d])),
          binaryRecord('empty', 1, new Uint8Array(0)),
        ]
        await store.write(records)
        const found = await store.read(records.map((r) => r.id))
        for (const record of records) expectSameRecord(found.get(record.id), record)
      })

      it('a 16 MiB binary (16 * 1024 * 1024 bytes) round-trips byte-identical, or is rejected alone with PayloadTooLargeError where the server cannot take it', async () => {
        const big = binaryRecord('big', 1, patternBytes(16 * MiB))
        const small = jsonRecord('small', 1)
        const result = await store.write([big, small])
        const limit = store.capabilities.maxContentBytes
        if (limit === undefined || limit >= 16 * MiB) {
          expect(result).toEqual({ applied: 2, stale: [] })
          expectSameRecord(await readOne('big'), big)
        } else {
          // e.g. MariaDB's default max_allowed_packet is exactly 16 MiB: a 16 MiB value plus the
          // rest of its row does not fit in one packet. The small record is written regardless.
          expect(result.applied).toBe(1)
          const error = result.rejected?.get('big')
          expect(error).toBeInstanceOf(PayloadTooLargeError)
          expect((error as PayloadTooLargeError).sizeBytes).toBe(16 * MiB)
          expect((error as PayloadTooLargeError).limitBytes).toBeLessThan(16 * MiB)
          expect(await readOne('big')).toBeUndefined()
        }
        expectSameRecord(await readOne('small'), small)
      })

      it('the largest content the store announces round-trips, as JSON text and as binary', async () => {
        const limit = store.capabilities.maxContentBytes ?? 4 * MiB
        const text = `"${'x'.repeat(limit - 2)}"`
        const records = [jsonRecord('big-json', 1, text), binaryRecord('big-bin', 1, patternBytes(limit))]
        expect(await store.write(records)).toEqual({ applied: 2, stale: [] })
        const found = await store.read(['big-json', 'big-bin'])
        for (const record of records) expectSameRecord(found.get(record.id), record)
      })

      it('splits a write whose rows together exceed one statement, and writes them all', async () => {
        const size = Math.min(5 * MiB, Math.floor((store.capabilities.maxContentBytes ?? 20 * MiB) / 3))
        const records = Array.from({ length: 5 }, (_, i) =>
          binaryRecord(`chunk-${i}`, 1, patternBytes(size + i)),
        )
        expect(await store.write(records)).toEqual({ applied: 5, stale: [] })
        const found = await store.read(records.map((r) => r.id))
        for (const record of records) expectSameRecord(found.get(record.id), record)
      })

      it('stores versions and timestamps up to Number.MAX_SAFE_INTEGER exactly', async () => {
        const record = jsonRecord('max', Number.MAX_SAFE_INTEGER, '{}', Number.MAX_SAFE_INTEGER)
        await store.write([record])
        expectSameRecord(await readOne('max'), record)
        expect(await store.maxVersion()).toBe(Number.MAX_SAFE_INTEGER)
        const older = jsonRecord('max', Number.MAX_SAFE_INTEGER - 1, '[]')
        expect((await store.write([older])).stale).toEqual(['max'])
      })
    })

    describe('version guard', () => {
      it('ignores an older write after a newer one and reports it stale', async () => {
        const newer = jsonRecord('a', 5, '{"v":"five"}')
        await store.write([newer])
        expect(await store.write([jsonRecord('a', 3, '{"v":"three"}')])).toEqual({
          applied: 0,
          stale: ['a'],
          storedVersions: new Map([['a', 5]]),
        })
        expectSameRecord(await readOne('a'), newer)
      })

      it('still guards versions when asked not to report stale ids (a log drain)', async () => {
        const newer = jsonRecord('quiet', 5, '{"v":"five"}')
        await store.write([newer])
        const result = await store.write(
          [jsonRecord('quiet', 3, '{"v":"three"}'), jsonRecord('quiet-new', 1, '1')],
          {
            reportStale: false,
          },
        )
        expect(result.stale).toEqual([])
        expectSameRecord(await readOne('quiet'), newer)
        expect((await readOne('quiet-new'))?.version).toBe(1)
      })

      it('an equal version is a no-op (the first writer wins) and is not stale (an idempotent retry)', async () => {
        const first = jsonRecord('a', 5, '{"v":"first"}')
        await store.write([first])
        const result = await store.write([jsonRecord('a', 5, '{"v":"second"}')])
        expect(result.stale).toEqual([])
        expectSameRecord(await readOne('a'), first)
      })

      it('applies newer versions and reports only the stale ids of a mixed batch', async () => {
        await store.write([jsonRecord('a', 5), jsonRecord('b', 5), jsonRecord('c', 5)])
        const result = await store.write([
          jsonRecord('a', 6),
          jsonRecord('b', 4),
          jsonRecord('c', 7),
          jsonRecord('d', 1),
        ])
        expect(result.applied).toBe(3)
        expect(result.stale).toEqual(['b'])
        const found = await store.read(['a', 'b', 'c', 'd'])
        expect([...found.values()].map((r) => `${r.id}@${r.version}`).sort()).toEqual([
          'a@6',
          'b@5',
          'c@7',
          'd@1',
        ])
      })

      it('every column follows the version: an applied write replaces all of them', async () => {
        await store.write([jsonRecord('a', 1, '{"x":1}')])
        const replaced: StoredRecord = {
          ...binaryRecord('a', 2, new Uint8Array([1, 2])),
          state: 'archived',
          mime: 'image/png',
          updatedAt: T + 5,
        }
        await store.write([replaced])
        expectSameRecord(await readOne('a'), replaced)
        await store.write([{ ...jsonRecord('a', 1, '{"x":"old"}'), state: 'old' }])
        expectSameRecord(await readOne('a'), replaced)
      })

      it('32 concurrent writers of one id, in shuffled version order, end at the highest version', async () => {
        const versions = shuffled(
          Array.from({ length: 32 }, (_, i) => 1_000 + i * 7),
          20_240_601,
        )
        const records = versions.map((v) => jsonRecord('contended', v, JSON.stringify({ v })))
        const results = await Promise.all(records.map((record) => store.write([record])))
        const top = Math.max(...versions)
        const got = await readOne('contended')
        expect(got?.version).toBe(top)
        expectSameRecord(got, records.find((r) => r.version === top)!)
        // The highest write is never reported stale; the writes that lost to a newer stored one are.
        const staleVersions = results.flatMap((result, i) => (result.stale.length > 0 ? [versions[i]!] : []))
        expect(staleVersions).not.toContain(top)
        expect(results.every((r) => r.applied + r.stale.length === 1)).toBe(true)
      })
    })

    describe('tombstones', () => {
      it('a tombstone with a higher version hides the item from reads, scans and counts', async () => {
        await store.write([jsonRecord('a', 1), jsonRecord('b', 1)])
        await store.write([tombstone('a', 2)])
        const got = await readOne('a')
        expect(got?.tombstone).toBe(true)
        expect(got?.content).toBeNull()
        expect(got?.version).toBe(2)
        expect(await scanAll()).toEqual(['b'])
        expect(await store.count()).toBe(1)
      })

      it('an older put after a tombstone does not resurrect the item; a newer one does', async () => {
        await store.write([tombstone('a', 5)])
        expect(await store.write([jsonRecord('a', 4)])).toEqual({
          applied: 0,
          stale: ['a'],
          storedVersions: new Map([['a', 5]]),
        })
        expect((await readOne('a'))?.tombstone).toBe(true)
        expect(await scanAll()).toEqual([])
        const revived = jsonRecord('a', 6)
        expect((await store.write([revived])).stale).toEqual([])
        expectSameRecord(await readOne('a'), revived)
      })

      it('an older tombstone does not delete a newer item', async () => {
        const item = jsonRecord('a', 5)
        await store.write([item])
        expect((await store.write([tombstone('a', 4)])).stale).toEqual(['a'])
        expectSameRecord(await readOne('a'), item)
      })
    })

    describe('batches', () => {
      it('writes 2,500 records in one call and reads them back in one call', async () => {
        const records = Array.from({ length: 2_500 }, (_, i) =>
          i % 5 === 0
            ? binaryRecord(`item:${String(i).padStart(5, '0')}`, i + 1, patternBytes(i % 97))
            : jsonRecord(
                `item:${String(i).padStart(5, '0')}`,
                i + 1,
                JSON.stringify({ i, tags: ['a', 'b'] }),
              ),
        )
        expect(await store.write(shuffled(records, 7))).toEqual({ applied: 2_500, stale: [] })
        const found = await store.read(records.map((r) => r.id))
        expect(found.size).toBe(2_500)
        for (const record of records) expectSameRecord(found.get(record.id), record)
        expect(await store.count()).toBe(2_500)

        // Again, half of them older than stored: exactly those are stale.
        const again = records.map((r, i) =>
          jsonRecord(r.id, i % 2 === 0 ? r.version - 1 : r.version + 10_000),
        )
        const result = await store.write(again)
        expect(result.applied).toBe(1_250)
        expect(result.stale.length).toBe(1_250)
        expect(new Set(result.stale)).toEqual(new Set(records.filter((_, i) => i % 2 === 0).map((r) => r.id)))
      })

      it('rejects invalid records before the batch, typed, and writes the others', async () => {
        const good = [jsonRecord('good-1', 1), jsonRecord('good-2', 1)]
        const bad: StoredRecord[] = [
          jsonRecord('x'.repeat(513), 1),
          jsonRecord(`${'😀'.repeat(128)}x`, 1),
          { ...jsonRecord('long-state', 1), state: 's'.repeat(65) },
          { ...jsonRecord('long-mime', 1), mime: `application/${'x'.repeat(250)}` },
          jsonRecord('unsafe-version', Number.MAX_SAFE_INTEGER + 2),
          { ...jsonRecord('no-content', 1), content: null },
          { ...jsonRecord('bad-utf8', 1), content: new Uint8Array([0x22, 0xc3, 0x28, 0x22]) },
        ]
        const result = await store.write([good[0]!, ...bad, good[1]!])
        expect(result.applied).toBe(2)
        expect(result.stale).toEqual([])
        expect([...(result.rejected?.keys() ?? [])].sort()).toEqual(bad.map((r) => r.id).sort())
        expect(result.rejected?.get('x'.repeat(513))).toBeInstanceOf(InvalidIdError)
        expect(result.rejected?.get('long-state')).toBeInstanceOf(InvalidArgumentError)
        const found = await store.read([...good, ...bad].map((r) => r.id))
        expect([...found.keys()].sort()).toEqual(['good-1', 'good-2'])
      })
    })

    describe('ids', () => {
      it('ids of exactly 512 bytes of UTF-8 work: 4-byte, 3-byte, mixed and ASCII characters', async () => {
        const ids = ['😀'.repeat(128), `${'日'.repeat(170)}ab`, `é${'€'.repeat(170)}`, 'a'.repeat(512)]
        for (const id of ids) expect(Buffer.byteLength(id)).toBe(512)
        const records = ids.map((id, i) => jsonRecord(id, i + 1, JSON.stringify({ i })))
        expect(await store.write(records)).toEqual({ applied: 4, stale: [] })
        const found = await store.read(ids)
        for (const record of records) expectSameRecord(found.get(record.id), record)
        expect(await scanAll({ pageSize: 1 })).toEqual([...ids].sort(byUtf8))
        expect(await scanAll({ prefix: '😀😀' })).toEqual([ids[0]])
      })

      it('ids that differ only in trailing spaces or case are different items', async () => {
        const ids = ['a', 'a ', 'a  ', 'A', ' a', 'a\u00a0']
        await store.write(ids.map((id, i) => jsonRecord(id, i + 1, JSON.stringify({ i }))))
        const found = await store.read(ids)
        expect(found.size).toBe(ids.length)
        for (const [i, id] of ids.entries()) expect(found.get(id)?.version).toBe(i + 1)
        expect((await store.read(['a'])).size).toBe(1)
        expect(await scanAll()).toEqual([...ids].sort(byUtf8))
      })
    })

    describe('scans', () => {
      it('keyset scanIds pages over every live id in UTF-8 byte order, without gaps or repeats', async () => {
        const ids = shuffled(
          [
            ...Array.from({ length: 60 }, (_, i) => `k${i}`),
            // UTF-16 puts 😀 (D83D…) before U+FFFF; UTF-8 (F0… after EF…) and the backends do not.
            'b',
            'B',
            'é',
            'ê',
            '😀',
            '\uffff',
            '日本',
            '~',
            'a b',
            'a/b',
            '0',
          ],
          99,
        )
        await store.write(ids.map((id, i) => jsonRecord(id, i + 1)))
        await store.write([tombstone('k7', 1_000)])
        const expected = ids.filter((id) => id !== 'k7').sort(byUtf8)
        for (const pageSize of [1, 7, 100]) expect(await scanAll({ pageSize })).toEqual(expected)
      })

      it('starts strictly after `after`, even when that id does not exist', async () => {
        await store.write([jsonRecord('a', 1), jsonRecord('c', 1), jsonRecord('e', 1)])
        expect(await store.scanIds({ after: 'a', limit: 10 })).toEqual(['c', 'e'])
        expect(await store.scanIds({ after: 'b', limit: 10 })).toEqual(['c', 'e'])
        expect(await store.scanIds({ after: 'e', limit: 10 })).toEqual([])
        expect(await store.scanIds({ limit: 2 })).toEqual(['a', 'c'])
      })

      it('matches %, _, !, *, ?, [, ] and \\ in a prefix literally', async () => {
        const ids = [
          'a%1',
          'a%',
          'ab',
          'a_',
          'a_x',
          'aXx',
          'a!',
          'a!%',
          'a!!',
          'a*',
          'a*1',
          'a?',
          'a?x',
          'a[',
          'a[1',
          'a]',
          'a\\',
          'a\\%',
          'a1',
          'abc',
        ]
        await store.write(ids.map((id) => jsonRecord(id, 1)))
        const under = (prefix: string) => ids.filter((id) => id.startsWith(prefix)).sort(byUtf8)
        for (const prefix of ['a%', 'a_', 'a!', 'a!%', 'a*', 'a?', 'a[', 'a]', 'a\\', 'a\\%', 'ab', 'a']) {
          expect(await scanAll({ prefix }), `prefix ${JSON.stringify(prefix)}`).toEqual(under(prefix))
        }
      })

      it('prefix matching is case-sensitive', async () => {
        await store.write(['user:1', 'User:2', 'USER:3', 'user:4', 'usér:5'].map((id) => jsonRecord(id, 1)))
        expect(await scanAll({ prefix: 'user:' })).toEqual(['user:1', 'user:4'])
        expect(await scanAll({ prefix: 'User' })).toEqual(['User:2'])
        expect(await scanAll({ prefix: 'us' })).toEqual(['user:1', 'user:4', 'usér:5'])
      })

      it('combines prefix and keyset paging, and skips tombstones under the prefix', async () => {
        const ids = ['p/1', 'p/2', 'p/3', 'p/4', 'p/5', 'q/1', 'o/9', 'é/1', 'é/2', 'ê/1']
        await store.write(ids.map((id) => jsonRecord(id, 1)))
        await store.write([tombstone('p/3', 2)])
        expect(await scanAll({ prefix: 'p/', pageSize: 2 })).toEqual(['p/1', 'p/2', 'p/4', 'p/5'])
        expect(await store.scanIds({ prefix: 'p/', after: 'p/2', limit: 2 })).toEqual(['p/4', 'p/5'])
        expect(await scanAll({ prefix: 'é' })).toEqual(['é/1', 'é/2'])
      })
    })

    describeConditionsAndExpiry(() => store)

    describe('maxVersion, count, purgeTombstones', () => {
      it('an empty store scans nothing, counts 0 and reports maxVersion 0', async () => {
        expect(await store.scanIds({ limit: 10 })).toEqual([])
        expect(await store.count()).toBe(0)
        expect(await store.maxVersion()).toBe(0)
      })

      it('count skips tombstones; maxVersion includes them', async () => {
        await store.write([jsonRecord('a', 1), jsonRecord('b', 2), tombstone('c', 9)])
        expect(await store.count()).toBe(2)
        expect(await store.maxVersion()).toBe(9)
      })

      it('purgeTombstones removes only tombstones written before the cutoff', async () => {
        await store.write([
          tombstone('old', 1, T - 1_000),
          tombstone('edge', 2, T),
          tombstone('new', 3, T + 1_000),
          jsonRecord('item', 4, '{}', T - 5_000),
        ])
        expect(await store.purgeTombstones(T)).toBe(1)
        expect([...(await store.read(['old', 'edge', 'new', 'item'])).keys()].sort()).toEqual([
          'edge',
          'item',
          'new',
        ])
        expect(await store.purgeTombstones(T)).toBe(0)
        expect(await store.purgeTombstones(T + 1_001)).toBe(2)
        expect(await store.count()).toBe(1)
        expect([...(await store.read(['old', 'edge', 'new', 'item'])).keys()]).toEqual(['item'])
      })
    })
  })
}
