import {
  BackendError,
  InvalidArgumentError,
  LogTargetMismatchError,
  type PendingWrite,
  SyncItem,
  WalFullError,
  type WriteAheadLog,
} from '@sync-engine/core'
import { afterEach, describe, expect, it } from 'vitest'
import { describeAgainstModel } from './wal-model.ts'
import {
  binary,
  expectSameWrite,
  expectSameWrites,
  hlc,
  json,
  put,
  readAll,
  T,
  tombstone,
  writesIn,
} from './wal-writes.ts'

export interface WalFactory {
  /** A new, empty log of its own, opened, that refuses appends past `maxBytes`. */
  create(maxBytes: number): Promise<WriteAheadLog>
  /** What one write counts for in `stats().bytes` and against `maxBytes`. */
  entryBytes(write: PendingWrite): number
  /**
   * Closes `log` and opens what it stored again, as the next process would. Absent for a log that
   * keeps nothing once closed (the memory log): the cases that reopen are skipped.
   */
  reopen?(log: WriteAheadLog): Promise<WriteAheadLog>
}

const ROOMY = 1 << 30

/**
 * What every `WriteAheadLog` owes the engine — the SQLite file today, a Redis outbox next: seqs,
 * all-or-nothing appends under `maxBytes`, group commit as callers see it, removal by settled
 * version and by watermark, `latest`, exact stats, reopening, the L3 binding, and closing.
 */
export function walConformance(name: string, factory: WalFactory): void {
  const persistent = factory.reopen !== undefined
  const opened = new Set<WriteAheadLog>()
  const create = async (maxBytes = ROOMY) => {
    const log = await factory.create(maxBytes)
    opened.add(log)
    return log
  }
  const reopen = async (log: WriteAheadLog) => {
    opened.delete(log)
    const again = await factory.reopen!(log)
    opened.add(again)
    return again
  }
  const bytesOf = (writes: readonly PendingWrite[]) =>
    writes.reduce((sum, write) => sum + factory.entryBytes(write), 0)

  describe(`write-ahead log conformance: ${name}`, () => {
    afterEach(async () => {
      for (const log of opened) await log.close()
      opened.clear()
    })

    describe('append and read', () => {
      it('reads back what was appended, in append order, under increasing seqs', async () => {
        const log = await create()
        const writes = [json('a', hlc(1)), json('b', hlc(2)), json('a', hlc(3))]
        const batch = [tombstone('c', hlc(4)), json('d', hlc(5)), json('b', hlc(6))]
        for (const write of writes) await log.append([write])
        await log.append(batch)
        const entries = await readAll(log)
        expectSameWrites(
          entries.map((entry) => entry.write),
          [...writes, ...batch],
        )
        const seqs = entries.map((entry) => entry.seq)
        expect(seqs.every((seq, i) => Number.isSafeInteger(seq) && (i === 0 || seq > seqs[i - 1]!))).toBe(
          true,
        )
        expect(log.stats()).toMatchObject({ entries: 6, bytes: bytesOf([...writes, ...batch]) })
      })

      it('returns every field exactly: JSON, binary, empty, tombstone, TTL route with expiry, caller versioned', async () => {
        const log = await create()
        const writes: PendingWrite[] = [
          json('user:1', hlc(1), { name: 'Zoë 🚀', tags: ['x'], n: 1.5, nested: { ok: true } }),
          put(
            SyncItem.fromBinary('blob/1', Uint8Array.of(0, 1, 0xfe, 0xff, 0), {
              mime: 'image/png',
              state: 'archived',
            }),
            hlc(2),
          ),
          binary('empty', hlc(3), new Uint8Array(0)),
          tombstone('gone', hlc(4)),
          put(SyncItem.fromJson('session:9', { s: 1 }), hlc(5), {
            route: { l2: true, l3: false, ttlMs: 60_000 },
            expiresAt: T + 60_000,
          }),
          put(SyncItem.fromJson('mine', 1), 42, { callerVersioned: true, updatedAt: T }),
          {
            ...json('older-item', hlc(7)),
            item: SyncItem.fromJson('older-item', 2).withVersion(hlc(6), T - 5),
          },
          { ...tombstone('日本/😀', hlc(8)), route: { l2: false, l3: true, ttlMs: undefined } },
        ]
        await log.append(writes)
        expectSameWrites(await writesIn(log), writes)
        for (const write of writes) expectSameWrite(await log.latest(write.id), write)
      })

      it('pages with afterSeq and limit, oldest first', async () => {
        const log = await create()
        await log.append(['a', 'b', 'c', 'd', 'e'].map((id, i) => json(id, hlc(i + 1))))
        const seqs = (await readAll(log)).map((entry) => entry.seq)
        const ids = async (after: number, limit: number) =>
          (await log.read(after, limit)).map((entry) => entry.write.id)
        expect(await ids(0, 2)).toEqual(['a', 'b'])
        expect(await ids(seqs[1]!, 2)).toEqual(['c', 'd'])
        expect(await ids(seqs[3]!, 10)).toEqual(['e'])
        expect(await ids(seqs[4]!, 10)).toEqual([])
        expect(await ids(0, 0)).toEqual([])
        await expect(log.read(0, -1)).rejects.toBeInstanceOf(InvalidArgumentError)
        await expect(log.read(Number.NaN, 1)).rejects.toBeInstanceOf(InvalidArgumentError)
      })

      it('never reuses a seq: after remove, removeThrough and reopen, new entries come after every earlier one', async () => {
        let log = await create()
        await log.append([json('a', hlc(1)), json('b', hlc(2)), json('c', hlc(3))])
        const first = (await readAll(log)).map((entry) => entry.seq)
        await log.remove([{ id: 'c', version: hlc(3) }])
        await log.append([json('d', hlc(4))])
        const afterRemove = (await readAll(log)).at(-1)!.seq
        expect(afterRemove).toBeGreaterThan(first[2]!)
        await log.removeThrough(afterRemove)
        if (persistent) log = await reopen(log)
        await log.append([json('e', hlc(5))])
        const [last] = await readAll(log)
        expect(last?.write.id).toBe('e')
        expect(last!.seq).toBeGreaterThan(afterRemove)
      })

      it('appends nothing for an empty call, and refuses an item of another id with nothing appended', async () => {
        const log = await create()
        await log.append([])
        const wrong = { ...json('a', hlc(1)), item: SyncItem.fromJson('b', 1).withVersion(hlc(1), T) }
        await expect(log.append([json('ok', hlc(2)), wrong])).rejects.toBeInstanceOf(InvalidArgumentError)
        expect(await readAll(log)).toEqual([])
        expect(log.stats()).toMatchObject({ entries: 0, bytes: 0 })
      })

      it('keeps its own copy: changing appended or read bytes changes nothing logged', async () => {
        const log = await create()
        const write = binary('own', hlc(1), Uint8Array.of(1, 2, 3))
        await log.append([write])
        ;(write.item!.content as Uint8Array)[0] = 9
        const [read] = await readAll(log)
        expect([...read!.write.item!.content]).toEqual([1, 2, 3])
        ;(read!.write.item!.content as Uint8Array)[1] = 9
        expect([...(await log.latest('own'))!.item!.content]).toEqual([1, 2, 3])
      })
    })

    describe('maxBytes', () => {
      it('refuses a call that would pass maxBytes with WalFullError, and appends none of its writes', async () => {
        const writes = ['a', 'b', 'c', 'd'].map((id, i) => json(id, hlc(i + 1)))
        const log = await create(bytesOf(writes.slice(0, 3)))
        await log.append([writes[0]!])
        await log.append([writes[1]!])
        const full = await log.append([writes[2]!, writes[3]!]).catch((error: unknown) => error)
        expect(full).toBeInstanceOf(WalFullError)
        expect((full as WalFullError).code).toBe('WAL_FULL')
        expect((full as WalFullError).maxBytes).toBe(bytesOf(writes.slice(0, 3)))
        expectSameWrites(await writesIn(log), writes.slice(0, 2))
        expect(log.stats()).toMatchObject({ entries: 2, bytes: bytesOf(writes.slice(0, 2)) })
        // Up to the bound exactly is fine; past it is not, until something is removed.
        await log.append([writes[2]!])
        await expect(log.append([json('e', hlc(9))])).rejects.toBeInstanceOf(WalFullError)
        await log.remove([{ id: 'a', version: hlc(1) }])
        await log.append([writes[3]!])
        expectSameWrites(await writesIn(log), writes.slice(1))
      })

      it('admits concurrent calls in call order: the one that does not fit fails alone', async () => {
        const small = [json('a', hlc(1)), json('b', hlc(2))]
        const big = binary('big', hlc(3), new Uint8Array(4096))
        const log = await create(bytesOf(small) + 100)
        const results = await Promise.allSettled([
          log.append([small[0]!]),
          log.append([big]),
          log.append([small[1]!]),
        ])
        expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
        expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(WalFullError)
        expectSameWrites(await writesIn(log), small)
      })
    })

    describe('group commit', () => {
      it('resolves every one of many concurrent appends, and a read after them sees all, in call order', async () => {
        const log = await create()
        const calls = Array.from({ length: 40 }, (_, i) =>
          i % 3 === 0
            ? [json(`g${i}`, hlc(2 * i)), tombstone(`g${i}`, hlc(2 * i + 1))]
            : [json(`g${i}`, hlc(2 * i))],
        )
        await Promise.all(calls.map((call) => log.append(call)))
        expectSameWrites(await writesIn(log), calls.flat())
        expect(log.stats()).toMatchObject({ entries: calls.flat().length, bytes: bytesOf(calls.flat()) })
      })

      it('commits appends still pending when closed', async () => {
        let log = await create()
        const write = json('pending', hlc(1))
        const appended = log.append([write])
        await log.close()
        await expect(appended).resolves.toBeUndefined()
        if (!persistent) return
        log = await reopen(log)
        expectSameWrites(await writesIn(log), [write])
      })
    })

    describe('keys and readSeqs', () => {
      const optional = (log: WriteAheadLog) => {
        // Optional, but together: one without the other is half an API.
        expect(log.keys === undefined).toBe(log.readSeqs === undefined)
        return log.keys === undefined
          ? undefined
          : { keys: log.keys.bind(log), readSeqs: log.readSeqs!.bind(log) }
      }

      it('keys(after, limit) are the seq, id and version of what read(after, limit) returns', async () => {
        const log = await create()
        const api = optional(log)
        if (api === undefined) return
        await log.append(['a', 'b', 'a', 'c', 'd', 'b'].map((id, i) => json(id, hlc(i + 1))))
        await log.remove([{ id: 'c', version: hlc(4) }])
        await log.removeThrough((await readAll(log))[0]!.seq)
        const seqs = (await readAll(log)).map((entry) => entry.seq)
        for (const [after, limit] of [
          [0, 100],
          [0, 2],
          [seqs[1]!, 2],
          [seqs.at(-1)!, 5],
        ] as const) {
          const entries = await log.read(after, limit)
          expect(await api.keys(after, limit)).toEqual(
            entries.map(({ seq, write }) => ({ seq, id: write.id, version: write.version })),
          )
        }
      })

      it('readSeqs returns the entries still in the log among those asked for, oldest first', async () => {
        const log = await create()
        const api = optional(log)
        if (api === undefined) return
        await log.append(['a', 'b', 'c', 'd', 'e'].map((id, i) => json(id, hlc(i + 1))))
        const entries = await readAll(log)
        const seq = (i: number) => entries[i]!.seq
        await log.remove([{ id: 'b', version: hlc(2) }])
        await log.removeThrough(seq(0))
        const found = await api.readSeqs([seq(4), seq(1), seq(0), seq(2), seq(4) + 1000])
        expect(found.map((entry) => entry.seq)).toEqual([seq(2), seq(4)])
        expectSameWrites(
          found.map((entry) => entry.write),
          [entries[2]!.write, entries[4]!.write],
        )
        expect(await api.readSeqs([])).toEqual([])
      })
    })

    describe('remove and removeThrough', () => {
      it('remove(settled) removes the entries of each id at or below its version, and only those', async () => {
        const log = await create()
        const writes = [
          json('a', hlc(1)),
          json('b', hlc(1)),
          json('a', hlc(2)),
          tombstone('a', hlc(3)),
          json('b', hlc(2)),
          json('c', hlc(5)),
        ]
        await log.append(writes)
        await log.remove([
          { id: 'a', version: hlc(2) },
          { id: 'b', version: hlc(0) },
          { id: 'zzz', version: hlc(9) },
        ])
        const left = [writes[1]!, writes[3]!, writes[4]!, writes[5]!]
        expectSameWrites(await writesIn(log), left)
        expect(log.stats()).toMatchObject({ entries: 4, bytes: bytesOf(left) })
        // Several settled versions of one id: the highest counts, whatever their order.
        await log.remove([
          { id: 'b', version: hlc(2) },
          { id: 'b', version: hlc(1) },
        ])
        await log.remove([])
        expectSameWrites(await writesIn(log), [writes[3]!, writes[5]!])
        expect((await log.latest('a'))?.version).toBe(hlc(3))
        expect(await log.latest('b')).toBeUndefined()
      })

      it('removeThrough(seq) removes every entry up to it; a lower one later changes nothing', async () => {
        const log = await create()
        const writes = ['a', 'b', 'c', 'd', 'e'].map((id, i) => json(id, hlc(i + 1)))
        await log.append(writes)
        const seqs = (await readAll(log)).map((entry) => entry.seq)
        await log.removeThrough(seqs[2]!)
        expectSameWrites(await writesIn(log), writes.slice(3))
        await log.removeThrough(seqs[0]!)
        expectSameWrites(await writesIn(log), writes.slice(3))
        expect(await log.read(seqs[0]!, 10)).toHaveLength(2)
        expect(await log.latest('b')).toBeUndefined()
        expect(log.stats()).toMatchObject({ entries: 2, bytes: bytesOf(writes.slice(3)) })
      })

      it('never moves past the highest seq assigned: entries appended after a removeThrough far ahead stay visible', async () => {
        for (const seeded of [false, true]) {
          const log = await create()
          if (seeded) await log.append([json('a', hlc(1)), json('b', hlc(2))])
          await log.removeThrough(Number.MAX_SAFE_INTEGER)
          expect(log.stats()).toMatchObject({ entries: 0, bytes: 0 })
          const later = [json('c', hlc(3)), json('d', hlc(4))]
          await log.append(later)
          expectSameWrites(await writesIn(log), later)
          expect(log.stats()).toMatchObject({ entries: 2, bytes: bytesOf(later) })
        }
      })
    })

    describe('latest', () => {
      it('is the highest version logged for the id, not the last appended; undefined when none', async () => {
        const log = await create()
        await log.append([json('a', hlc(5), { v: 5 }), json('b', hlc(1))])
        await log.append([json('a', hlc(3), { v: 3 })])
        expectSameWrite(await log.latest('a'), json('a', hlc(5), { v: 5 }))
        await log.append([tombstone('a', hlc(7))])
        expectSameWrite(await log.latest('a'), tombstone('a', hlc(7)))
        await log.remove([{ id: 'a', version: hlc(7) }])
        expect(await log.latest('a')).toBeUndefined()
        expect(await log.latest('never')).toBeUndefined()
      })
    })

    describeAgainstModel({
      create,
      bytesOf,
      ...(persistent && { reopen }),
      forget: (log) => opened.delete(log),
    })

    describe.skipIf(!persistent)('reopen', () => {
      it('keeps entries, seqs, stats, removals and the target', async () => {
        let log = await create()
        const writes = ['a', 'b', 'c', 'd'].map((id, i) => json(id, hlc(i + 1)))
        await log.append(writes)
        await log.bind('sql:target#items')
        await log.removeThrough((await readAll(log))[0]!.seq)
        await log.remove([{ id: 'c', version: hlc(3) }])
        const before = await readAll(log)
        const stats = log.stats()
        log = await reopen(log)
        expect(log.target).toBe('sql:target#items')
        expect(log.stats()).toEqual(stats)
        const after = await readAll(log)
        expect(after.map((entry) => entry.seq)).toEqual(before.map((entry) => entry.seq))
        expectSameWrites(
          after.map((entry) => entry.write),
          [writes[1]!, writes[3]!],
        )
        // A target that looks like a number is kept as text (no column affinity may convert it).
        await log.removeThrough(Number.MAX_SAFE_INTEGER)
        await log.bind('007')
        log = await reopen(log)
        expect(log.target).toBe('007')
      })
    })

    describe('bind', () => {
      it('an empty log takes the target; the same target again is fine', async () => {
        const log = await create()
        expect(log.target).toBeUndefined()
        await log.bind('sqlite:/data/sync.db#items')
        expect(log.target).toBe('sqlite:/data/sync.db#items')
        await log.append([json('a', hlc(1))])
        await log.bind('sqlite:/data/sync.db#items')
        expect(log.target).toBe('sqlite:/data/sync.db#items')
        await expect(log.bind('')).rejects.toBeInstanceOf(InvalidArgumentError)
      })

      it('a log holding entries for another target refuses with LogTargetMismatchError and changes nothing', async () => {
        let log = await create()
        await log.bind('mysql:db1#items')
        const writes = [json('a', hlc(1)), json('b', hlc(2))]
        await log.append(writes)
        const error = await log.bind('mysql:db2#items').catch((e: unknown) => e)
        expect(error).toBeInstanceOf(LogTargetMismatchError)
        expect(error).toMatchObject({
          code: 'LOG_TARGET_MISMATCH',
          logTarget: 'mysql:db1#items',
          configuredTarget: 'mysql:db2#items',
          entries: 2,
        })
        expect(log.target).toBe('mysql:db1#items')
        expectSameWrites(await writesIn(log), writes)
        if (persistent) log = await reopen(log)
        expect(log.target).toBe('mysql:db1#items')
        await expect(log.bind('mysql:db2#items')).rejects.toBeInstanceOf(LogTargetMismatchError)
      })

      it('a log with entries but no target yet takes one; once its entries are removed, another may be bound', async () => {
        let log = await create()
        await log.append([json('a', hlc(1)), json('b', hlc(2))])
        await log.bind('first')
        expect(log.target).toBe('first')
        await log.remove([{ id: 'a', version: hlc(1) }])
        await expect(log.bind('second')).rejects.toBeInstanceOf(LogTargetMismatchError)
        await log.removeThrough(Number.MAX_SAFE_INTEGER)
        await log.bind('second')
        expect(log.target).toBe('second')
        if (!persistent) return
        log = await reopen(log)
        expect(log.target).toBe('second')
      })
    })

    describe('close', () => {
      it('is idempotent, and every operation after it rejects with BackendError', async () => {
        const log = await create()
        await log.append([json('a', hlc(1))])
        await log.close()
        await log.close()
        const calls: [string, () => Promise<unknown>][] = [
          ['open', () => log.open()],
          ['bind', () => log.bind('x')],
          ['append', () => log.append([json('b', hlc(2))])],
          ['read', () => log.read(0, 10)],
          ['remove', () => log.remove([{ id: 'a', version: hlc(1) }])],
          ['removeThrough', () => log.removeThrough(1)],
          ['latest', () => log.latest('a')],
        ]
        if (log.keys) calls.push(['keys', () => log.keys!(0, 10)], ['readSeqs', () => log.readSeqs!([1])])
        for (const [operation, call] of calls) {
          const error = await call().then(
            () => undefined,
            (e: unknown) => e,
          )
          expect(error, operation).toBeInstanceOf(BackendError)
        }
      })
    })
  })
}
