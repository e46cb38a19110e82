import {
  BackendError,
  type CorruptValue,
  encodeEnvelope,
  isCorrupt,
  isReplyError,
  RedisReplyError,
  type RedisStore,
  type RedisTransport,
} from '@sync-engine/core/internal'
import { beforeAll, describe, expect, it } from 'vitest'
import { binaryRecord, bytes, expectRecord, jsonRecord, text } from './l2-records.ts'

/** What the Redis-only cases reach past the store for. */
export interface RedisParts {
  /** The run's key prefix (every key of the run starts with it). */
  readonly prefix: string
  /** A connection of its own, for raw commands: corrupting keys, reading TTLs. */
  readonly raw: RedisTransport
  /** Where damaged bytes are planted: `raw` unless it is not binary-safe. */
  readonly planter: RedisTransport
  /** The store under test. */
  readonly store: RedisStore
}

/**
 * Cases about Redis itself rather than the `L2Store` contract: values damaged behind the store's
 * back, the key namespace, and the transport's own contract. Skipped (listed, not run) for an L2
 * that is not Redis, which has no keys to damage and no transport.
 */
export function describeRedisInternals(enabled: boolean, parts: () => RedisParts): void {
  ;(enabled ? describe : describe.skip)('Redis internals', () => {
    let prefix: string
    let raw: RedisTransport
    let planter: RedisTransport
    let store: RedisStore
    const readOne = async (id: string) => (await store.read([id])).get(id)
    const rawGet = (key: string) => raw.send(['GET', key])

    beforeAll(() => {
      ;({ prefix, raw, planter, store } = parts())
    })

    describe('corruption', () => {
      const good = binaryRecord('corrupt/ok', 1, bytes(42))
      const valid = encodeEnvelope(jsonRecord('x', 3, { some: 'content' }))

      beforeAll(async () => {
        await store.write([{ record: good }])
        const key = (id: string) => store.keys.itemKey(id)
        await planter.pipeline([
          ['SET', key('corrupt/garbage'), Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff])],
          ['SET', key('corrupt/text'), '{"looks":"like json"}'],
          ['SET', key('corrupt/truncated'), valid.subarray(0, valid.length - 3)],
          ['SET', key('corrupt/header'), valid.subarray(0, 16)],
          ['SET', key('corrupt/padded'), Uint8Array.from([...valid, 0])],
          ['RPUSH', key('corrupt/list'), 'a', 'b'],
          ['HSET', key('corrupt/hash'), 'f', 'v'],
        ])
      })

      const bad = [
        'corrupt/garbage',
        'corrupt/text',
        'corrupt/truncated',
        'corrupt/header',
        'corrupt/padded',
        'corrupt/list',
        'corrupt/hash',
      ]

      it('returns a corrupt marker for each bad value, leaving the other ids of the read intact', async () => {
        const found = await store.read([...bad, 'corrupt/ok', 'corrupt/missing'])
        for (const id of bad) {
          const value = found.get(id)
          expect(isCorrupt(value), id).toBe(true)
          expect((value as CorruptValue).id).toBe(id)
          expect((value as CorruptValue).reason).toEqual(expect.any(String))
        }
        expectRecord(found.get('corrupt/ok'), good)
        expect(found.has('corrupt/missing')).toBe(false)
      })

      it('reports a wrong Redis type as corrupt on the single-id path too', async () => {
        for (const id of ['corrupt/list', 'corrupt/hash', 'corrupt/garbage']) {
          expect(isCorrupt(await readOne(id)), id).toBe(true)
        }
        const pair = await store.read(['corrupt/list', 'corrupt/ok'])
        expect(isCorrupt(pair.get('corrupt/list'))).toBe(true)
        expectRecord(pair.get('corrupt/ok'), good)
      })

      it('repairs a corrupt key by writing a record over it', async () => {
        const repairs = ['corrupt/list', 'corrupt/truncated'].map((id) => binaryRecord(id, 1, bytes(7)))
        expect(await store.write(repairs.map((record) => ({ record })))).toEqual({ applied: 2, stale: [] })
        const found = await store.read(repairs.map((r) => r.id))
        for (const record of repairs) expectRecord(found.get(record.id), record)
      })
    })

    describe('key namespaces', () => {
      it('never lets an item id reach an internal key', async () => {
        const internal = store.keys.internalKey('internal')
        await raw.send(['SET', internal, 'internal state'])
        const ids = ['x:internal', 'i:x:internal', '../x:internal', 'j:x']
        await store.write(ids.map((id) => ({ record: binaryRecord(id, 1, bytes(9)) })))
        expect(text(await rawGet(internal))).toBe('internal state')
        const found = await store.read(ids)
        expect(found.size).toBe(ids.length)
        expect((await store.scanPrefix('')).ids).not.toContain('internal')
        expect(await store.delete(['x:internal'])).toBe(1)
        expect(text(await rawGet(internal))).toBe('internal state')
      })
    })

    describe('transport contract', () => {
      const k = (name: string) => `${prefix}contract:${name}`

      it('sends binary arguments (text, if it says it is not binary-safe) and returns bulk replies as bytes', async () => {
        // A text-only wire still returns whatever bytes a value holds (planted by a binary-safe one).
        const value = Uint8Array.of(0, 0xff, 0x0d, 0x0a, 0x80, 0)
        if (raw.binarySafe === false) await planter.send(['SET', k('bin'), value])
        else await raw.send(['SET', k('bin'), value])
        const reply = await raw.send(['GET', k('bin')])
        expect(reply).toBeInstanceOf(Uint8Array)
        expect([...(reply as Uint8Array)]).toEqual([...value])
        expect(await raw.send(['GET', k('none')])).toBeNull()
        expect(await raw.send(['STRLEN', k('bin')])).toBe(6)
      })

      it('throws a RedisReplyError for an error reply, with its code', async () => {
        await raw.send(['RPUSH', k('list'), 'a'])
        const error = await raw.send(['GET', k('list')]).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(RedisReplyError)
        expect(error).toBeInstanceOf(BackendError)
        expect((error as RedisReplyError).replyCode).toBe('WRONGTYPE')
      })

      it('returns per-command errors in place in a pipeline', async () => {
        await raw.send(['RPUSH', k('list2'), 'a'])
        const replies = await raw.pipeline([
          ['SET', k('p1'), 'one'],
          ['GET', k('list2')],
          ['GET', k('p1')],
        ])
        expect(replies).toHaveLength(3)
        expect(isReplyError(replies[1], 'WRONGTYPE')).toBe(true)
        expect(text(replies[2] ?? null)).toBe('one')
      })

      it('runs a transaction all together', async () => {
        const replies = await raw.transaction([
          ['SET', k('t1'), 'a'],
          ['INCR', k('t2')],
          ['INCR', k('t2')],
        ])
        expect(replies.slice(1)).toEqual([1, 2])
        expect(text(await raw.send(['GET', k('t1')]))).toBe('a')
      })
    })
  })
}
