import { join } from 'node:path'
import { Writable } from 'node:stream'
import {
  BackendError,
  CorruptionError,
  type L3Store,
  LogTargetMismatchError,
  type PendingWrite,
  PreconditionFailedError,
  StaleVersionError,
  SyncEngine,
  SyncItem,
  type WriteAheadLog,
} from '@sync-engine/core'
import { createSqliteStore, SqliteWriteAheadLog } from '@sync-engine/sql-sqlite'
import Database from 'better-sqlite3'
import { pino } from 'pino'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { FlakyL3 } from '../../support/flaky-l3.ts'
import { makeTempDir } from '../../support/temp-dir.ts'

/**
 * What the engine tells its caller when a write does not happen, a backend fails or content is
 * damaged: a typed error with a stable code, never a success that did not happen, never a
 * backend failure blamed on the caller.
 */

const dir = makeTempDir('typed-outcomes')
afterAll(() => dir.remove())
let files = 0
const path = (name: string) => join(dir.path, `${name}-${++files}.db`)
const open: SyncEngine[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((engine) => engine.shutdown()))
})

async function started(options: ConstructorParameters<typeof SyncEngine>[0]): Promise<SyncEngine> {
  const engine = new SyncEngine(options)
  open.push(engine)
  await engine.start()
  return engine
}

/** A log whose appends fail the way a full or broken disk does: a plain Error from below. */
class BrokenLog implements WriteAheadLog {
  readonly driver = 'broken'
  broken = false
  constructor(private readonly inner: WriteAheadLog) {}
  get target() {
    return this.inner.target
  }
  open() {
    return this.inner.open()
  }
  bind(target: string) {
    return this.inner.bind(target)
  }
  append(writes: readonly PendingWrite[]) {
    if (this.broken) return Promise.reject(new Error('SQLITE_IOERR: disk I/O error'))
    return this.inner.append(writes)
  }
  read(afterSeq: number, limit: number) {
    return this.inner.read(afterSeq, limit)
  }
  remove(settled: Parameters<WriteAheadLog['remove']>[0]) {
    return this.inner.remove(settled)
  }
  removeThrough(seq: number) {
    return this.inner.removeThrough(seq)
  }
  latest(id: string) {
    return this.inner.latest(id)
  }
  stats() {
    return this.inner.stats()
  }
  close() {
    return this.inner.close()
  }
}

describe('a failure of the write-ahead log', () => {
  it('reaches submit, submitMany and deleteMany as a retryable BackendError (503), not a caller error', async () => {
    const log = new BrokenLog(new SqliteWriteAheadLog({ path: path('wal'), maxBytes: 1 << 20 }))
    const engine = await started({ l3: createSqliteStore({ path: path('l3') }), wal: log })
    log.broken = true
    const failure = await engine.submit(SyncItem.fromJson('a', 1)).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(BackendError)
    expect(failure).toMatchObject({ code: 'BACKEND_ERROR', status: 503, retryable: true, tier: 'wal' })
    for (const results of [
      await engine.submitMany([SyncItem.fromJson('b', 1)]),
      await engine.deleteMany(['c']),
    ]) {
      const [result] = results
      expect(result?.ok).toBe(false)
      if (result?.ok === false) expect(result.error).toMatchObject({ code: 'BACKEND_ERROR', status: 503 })
    }
    // Nothing of a refused append happened.
    expect(await engine.get('a')).toBeUndefined()
  })
})

describe('reconfigure({ logLevel })', () => {
  it('changes the level of a logger that has one, and says so', async () => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk))
        done()
      },
    })
    const logger = pino({ level: 'info' }, sink)
    const engine = await started({ l3: createSqliteStore({ path: path('log') }), logger })
    expect(engine.reconfigure({ logLevel: 'debug' })).toEqual({
      applied: ['logLevel'],
      requiresRestart: [],
      unsupported: [],
    })
    expect(logger.level).toBe('debug')
    expect(engine.reconfigure({ logLevel: 'error' }).applied).toEqual(['logLevel'])
    lines.length = 0
    logger.warn({}, 'not at error level')
    expect(lines).toEqual([])
  })

  it('reports the field as unsupported when the logger has no level to set', async () => {
    const engine = await started({ l3: createSqliteStore({ path: path('silent') }) })
    expect(engine.reconfigure({ logLevel: 'debug' })).toEqual({
      applied: [],
      requiresRestart: [],
      unsupported: ['logLevel'],
    })
  })
})

describe('a write older than the stored version', () => {
  it('is refused with StaleVersionError (409) carrying the current version, and the value stays', async () => {
    const engine = await started({ l3: createSqliteStore({ path: path('stale') }) })
    await engine.submit(SyncItem.fromJson('v', 'two', { version: 2 }))
    const failure = await engine
      .submit(SyncItem.fromJson('v', 'one', { version: 1 }), { ack: 'stored' })
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(StaleVersionError)
    expect(failure).toMatchObject({ status: 409, code: 'STALE_VERSION', version: 1, currentVersion: 2 })
    // L1 holds nothing of it (a fresh engine reads the truth from L3).
    expect((await engine.get('v'))?.json()).toBe('two')
  })

  it('is found stale by L3 when this engine never saw the newer version, and reported with it', async () => {
    const file = path('stale-l3')
    const first = await started({ l3: createSqliteStore({ path: file }) })
    await first.submit(SyncItem.fromJson('w', 'five', { version: 5 }))
    const other = await started({ l3: createSqliteStore({ path: file }) })
    await expect(other.submit(SyncItem.fromJson('w', 'four', { version: 4 }))).rejects.toMatchObject({
      code: 'STALE_VERSION',
      currentVersion: 5,
    })
    expect((await other.get('w'))?.json()).toBe('five')
    expect((await other.health()).writes.superseded).toBe(1)
  })
})

describe('conditional writes (ifVersion)', () => {
  it('apply only at the expected version, atomically in L3; a failed condition writes nothing (412)', async () => {
    const engine = await started({ l3: createSqliteStore({ path: path('cond') }) })
    const v1 = await engine.submit(SyncItem.fromJson('c', 1))
    const wrong = await engine
      .submit(SyncItem.fromJson('c', 'lost update'), { ifVersion: v1.version - 1 })
      .catch((error: unknown) => error)
    expect(wrong).toBeInstanceOf(PreconditionFailedError)
    expect(wrong).toMatchObject({ status: 412, expectedVersion: v1.version - 1, currentVersion: v1.version })
    expect((await engine.get('c'))?.json()).toBe(1)
    const v2 = await engine.submit(SyncItem.fromJson('c', 2), { ifVersion: v1.version, ack: 'queued' })
    expect(v2.ack).toBe('stored')
    expect((await engine.get('c'))?.json()).toBe(2)
    await expect(engine.delete('c', { ifVersion: v1.version })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    )
    expect((await engine.delete('c', { ifVersion: v2.version })).existed).toBe(true)
    expect(await engine.get('c')).toBeUndefined()
  })

  it('ifVersion 0 creates only: a second create of the id is refused, a create after a delete is not', async () => {
    const file = path('create')
    const engine = await started({ l3: createSqliteStore({ path: file }) })
    const created = await engine.submit(SyncItem.fromJson('n', 'first'), { ifVersion: 0 })
    // Another engine (nothing of `n` in memory) must be refused by L3 itself.
    const other = await started({ l3: createSqliteStore({ path: file }) })
    await expect(other.submit(SyncItem.fromJson('n', 'second'), { ifVersion: 0 })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      currentVersion: created.version,
    })
    await other.delete('n')
    await other.submit(SyncItem.fromJson('n', 'again'), { ifVersion: 0 })
    expect((await other.get('n'))?.json()).toBe('again')
  })

  it('are refused in bulk calls (the condition applies to one item)', async () => {
    const engine = await started({ l3: createSqliteStore({ path: path('bulk') }) })
    await expect(engine.submitMany([SyncItem.fromJson('x', 1)], { ifVersion: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
  })
})

describe('getVerified', () => {
  it('re-hashes what it returns: content damaged in L3 is a CorruptionError naming the id', async () => {
    const file = path('verify')
    const engine = await started({ l3: createSqliteStore({ path: file }), config: { l1MaxBytes: 1 } })
    await engine.submit(SyncItem.fromJson('doc', { title: 'intact' }))
    expect((await engine.getVerified('doc'))?.json()).toEqual({ title: 'intact' })
    // The same length, other bytes: only the hash can tell.
    new Database(file)
      .prepare('UPDATE sync_items SET payload = ? WHERE id = ?')
      .run('{"title":"iNtact"}', 'doc')
    const failure = await engine.getVerified('doc').catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(CorruptionError)
    expect(failure).toMatchObject({ code: 'CORRUPTION', status: 500, id: 'doc' })
    // An unverified read does not pay for the hash.
    expect((await engine.get('doc'))?.json()).toEqual({ title: 'iNtact' })
  })
})

describe('the write-ahead log and its L3', () => {
  it('refuses to start on another L3 than the one its writes were logged for, and keeps them', async () => {
    const walPath = path('wal-target')
    const intended = path('intended')
    const down = new FlakyL3(createSqliteStore({ path: intended }))
    const first = await started({
      l3: down,
      wal: new SqliteWriteAheadLog({ path: walPath, maxBytes: 1 << 20 }),
    })
    down.down = true
    // Logged, then parked (L3 unreachable): only the log holds it.
    await first.submit(SyncItem.fromJson('acked', 'for intended'))
    await first.flush().catch(() => {})
    await first.shutdown()

    const elsewhere: L3Store = createSqliteStore({ path: path('elsewhere') })
    const wrong = new SyncEngine({
      l3: elsewhere,
      wal: new SqliteWriteAheadLog({ path: walPath, maxBytes: 1 << 20 }),
    })
    const failure = await wrong.start().catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(LogTargetMismatchError)
    expect(failure).toMatchObject({ code: 'LOG_TARGET_MISMATCH', entries: 1 })
    expect(wrong.state).toBe('failed')

    // Started on the L3 it was written for, the write drains there.
    const right = await started({
      l3: createSqliteStore({ path: intended }),
      wal: new SqliteWriteAheadLog({ path: walPath, maxBytes: 1 << 20 }),
    })
    expect((await right.get('acked'))?.json()).toBe('for intended')
    await right.flush()
    const row = new Database(intended, { readonly: true })
      .prepare('SELECT tombstone FROM sync_items WHERE id = ?')
      .get('acked') as { tombstone: number } | undefined
    expect(row?.tombstone).toBe(0)
  })
})

describe('a shutdown while L3 is unreachable', () => {
  it('parks what it cannot store in the log (queued writes too) instead of failing, and the next start stores it', async () => {
    const walPath = path('wal-shutdown')
    const l3Path = path('l3-shutdown')
    const flaky = new FlakyL3(createSqliteStore({ path: l3Path }))
    const engine = new SyncEngine({
      l3: flaky,
      wal: new SqliteWriteAheadLog({ path: walPath, maxBytes: 1 << 20 }),
      config: { batchFlushMs: 60_000 },
    })
    await engine.start()
    flaky.down = true
    await engine.submit(SyncItem.fromJson('only-in-memory', 'queued'), { ack: 'queued' })
    await engine.shutdown()
    expect(engine.state).toBe('stopped')
    const next = await started({
      l3: createSqliteStore({ path: l3Path }),
      wal: new SqliteWriteAheadLog({ path: walPath, maxBytes: 1 << 20 }),
    })
    expect((await next.get('only-in-memory'))?.json()).toBe('queued')
    expect((await next.health()).wal).toMatchObject({ entries: 0 })
  })
})
