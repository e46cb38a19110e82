import { type PendingWrite, WalFullError, type WriteAheadLog } from '@sync-engine/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { binary, expectSameWrites, hlc, readAll, tombstone } from './wal-writes.ts'

export interface ModelHarness {
  create(maxBytes: number): Promise<WriteAheadLog>
  /** Bytes the writes count for against `maxBytes`. */
  bytesOf(writes: readonly PendingWrite[]): number
  /** Closes the log and opens its storage again; absent for a log that keeps nothing. */
  reopen?(log: WriteAheadLog): Promise<WriteAheadLog>
  /** The case closes this log itself. */
  forget(log: WriteAheadLog): void
}

/** Random sequences of appends, removals and reopens, checked against a list of writes. */
export function describeAgainstModel(harness: ModelHarness): void {
  const { create, bytesOf } = harness
  const persistent = harness.reopen !== undefined
  const reopen = (log: WriteAheadLog) => harness.reopen!(log)

  describe('against a model', () => {
    const ids = ['a', 'b', 'é']
    const writeArb = fc
      .record({
        id: fc.constantFrom(...ids),
        version: fc.integer({ min: 1, max: 12 }),
        content: fc.option(fc.uint8Array({ maxLength: 48 }), { nil: null }),
      })
      .map(({ id, version, content }) =>
        content === null ? tombstone(id, hlc(version)) : binary(id, hlc(version), content),
      )
    const opArb = fc.oneof(
      {
        arbitrary: fc.record({
          kind: fc.constant('append' as const),
          calls: fc.array(fc.array(writeArb, { minLength: 1, maxLength: 3 }), {
            minLength: 1,
            maxLength: 3,
          }),
        }),
        weight: 4,
      },
      {
        arbitrary: fc.record({
          kind: fc.constant('remove' as const),
          settled: fc.array(
            fc.record({ id: fc.constantFrom(...ids), version: fc.integer({ min: 0, max: 13 }).map(hlc) }),
            { maxLength: 3 },
          ),
        }),
        weight: 2,
      },
      {
        arbitrary: fc.record({ kind: fc.constant('removeThrough' as const), index: fc.nat({ max: 10 }) }),
        weight: 1,
      },
      // A log that keeps nothing once closed has no reopen to model.
      ...(persistent ? [{ arbitrary: fc.constant({ kind: 'reopen' as const }), weight: 1 }] : []),
    )
    const MAX_BYTES = 600

    it('stats, entries, keys and latest equal a model after any sequence of appends and removals', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { maxLength: 12 }), async (ops) => {
          let log = await create(MAX_BYTES)
          let model: PendingWrite[] = []
          for (const op of ops) {
            if (op.kind === 'append') {
              // The calls of one op share a tick: admitted in call order, each all or nothing.
              const results = await Promise.allSettled(op.calls.map((call) => log.append(call)))
              results.forEach((result, i) => {
                const call = op.calls[i]!
                if (bytesOf(model) + bytesOf(call) <= MAX_BYTES) {
                  expect(result.status).toBe('fulfilled')
                  model.push(...call)
                } else {
                  expect((result as PromiseRejectedResult).reason).toBeInstanceOf(WalFullError)
                }
              })
            } else if (op.kind === 'remove') {
              await log.remove(op.settled)
              model = model.filter((w) => !op.settled.some((s) => s.id === w.id && w.version <= s.version))
            } else if (op.kind === 'removeThrough') {
              const seqs = (await readAll(log)).map((entry) => entry.seq)
              await log.removeThrough(seqs[op.index] ?? (seqs.at(-1) ?? 0) + 1)
              model = model.slice(Math.min(op.index + 1, model.length))
            } else {
              log = await reopen(log)
            }
            expect(log.stats()).toEqual({
              entries: model.length,
              bytes: bytesOf(model),
              maxBytes: MAX_BYTES,
            })
          }
          const entries = await readAll(log)
          expectSameWrites(
            entries.map((entry) => entry.write),
            model,
          )
          if (log.keys)
            expect((await log.keys(0, 1000)).map((key) => key.seq)).toEqual(entries.map((e) => e.seq))
          for (const id of ids) {
            const versions = model.filter((w) => w.id === id).map((w) => w.version)
            expect((await log.latest(id))?.version).toBe(versions.length ? Math.max(...versions) : undefined)
          }
          harness.forget(log)
          await log.close()
        }),
        { numRuns: 40 },
      )
    })
  })
}
