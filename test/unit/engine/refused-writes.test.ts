import { join } from 'node:path'
import {
  InvalidArgumentError,
  type L3Store,
  type L3WriteResult,
  PayloadTooLargeError,
  SqlStore,
  type StoredRecord,
  SyncEngine,
  SyncItem,
  sqliteDialect,
} from '@sync-engine/core/internal'
import { BetterSqlite3Transport, createSqliteStore } from '@sync-engine/sql-sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import { FlakyL3 } from '../../support/flaky-l3.ts'
import { makeTempDir } from '../../support/temp-dir.ts'

const dir = makeTempDir('engine-refused')
const file = (name: string) => join(dir.path, name)
afterAll(() => dir.remove())

/** An L3 that refuses, for good, every record whose id starts with `refused:` (as a server would). */
class RefusingL3 extends FlakyL3 {
  override async write(records: readonly StoredRecord[]): Promise<L3WriteResult> {
    const refused = records.filter((r) => r.id.startsWith('refused:'))
    const result = await super.write(records.filter((r) => !r.id.startsWith('refused:')))
    if (refused.length === 0) return result
    return {
      ...result,
      rejected: new Map(refused.map((r) => [r.id, new InvalidArgumentError('column too small')])),
    }
  }
}

describe('writes a tier refuses for good', () => {
  it('fail their stored ack with the typed error, are not retried or served, and do not block the batch', async () => {
    const l3 = new RefusingL3(new SqlStore(new BetterSqlite3Transport(file('refuse.db')), sqliteDialect))
    const engine = new SyncEngine({ l3, config: { batchFlushMs: 1 } })
    await engine.start()
    const results = await engine.submitMany([
      SyncItem.fromJson('ok:1', { a: 1 }),
      SyncItem.fromJson('refused:1', { a: 2 }),
      SyncItem.fromJson('ok:2', { a: 3 }),
    ])
    expect(results.map((r) => r.ok)).toEqual([true, false, true])
    const failure = results[1]!
    expect(!failure.ok && failure.error).toBeInstanceOf(InvalidArgumentError)
    await expect(engine.submit(SyncItem.fromJson('refused:2', {}))).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
    // Never stored, so never served, and nothing left queued to retry.
    expect(await engine.get('refused:1')).toBeUndefined()
    expect((await engine.health()).queue.depth).toBe(0)
    expect((await engine.get('ok:2'))?.json()).toEqual({ a: 3 })
    await engine.shutdown()
  })

  it('are refused at submit when they exceed what L3 can store in one row', async () => {
    class SmallPacketTransport extends BetterSqlite3Transport {
      readonly maxStatementBytes = 8192
    }
    const store: L3Store = new SqlStore(new SmallPacketTransport(file('small.db')), sqliteDialect)
    const engine = new SyncEngine({ l3: store })
    await engine.start()
    const limit = store.capabilities.maxContentBytes!
    expect(limit).toBeGreaterThan(0)
    expect(limit).toBeLessThan(8192)
    await expect(engine.submit(SyncItem.fromBinary('big', new Uint8Array(limit + 1)))).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    )
    await engine.submit(SyncItem.fromBinary('fits', new Uint8Array(limit).fill(7)))
    expect((await engine.get('fits'))?.content.length).toBe(limit)
    expect(await engine.get('big')).toBeUndefined()
    await engine.shutdown()
  })

  it('are refused by a rejected promise, never a synchronous throw (callers chain .catch)', async () => {
    const engine = new SyncEngine({ l3: createSqliteStore({ path: file('reject.db') }) })
    await engine.start()
    const refusals: Promise<unknown>[] = []
    const calls = [
      () => engine.submit({ id: 'x' } as unknown as SyncItem),
      () => engine.submit(SyncItem.fromJson('a', {}), { ack: 'bogus' as never }),
      () => engine.submit(SyncItem.fromJson('a', {}), { redisTtl: -1 }),
      () => engine.delete(''),
      () => engine.delete('a', { ack: 'bogus' as never }),
    ]
    for (const call of calls)
      expect(() => refusals.push(call().catch((error: unknown) => error))).not.toThrow()
    // Caller errors, each typed (INVALID_ARGUMENT or INVALID_ID, both 400).
    for (const error of await Promise.all(refusals)) expect(error).toMatchObject({ status: 400 })
    await engine.shutdown()
  })
})
