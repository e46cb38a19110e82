import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  InvalidArgumentError,
  type PendingWrite,
  type Route,
  SyncItem,
  WalFullError,
} from '@sync-engine/core'
import {
  createSqliteWriteAheadLog,
  SqliteWriteAheadLog,
  WAL_ENTRY_OVERHEAD_BYTES,
  walEntryBytes,
} from '@sync-engine/sql-sqlite'
import Database from 'better-sqlite3'
import fc from 'fast-check'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const dir = makeTempDir('wal')
afterAll(() => dir.remove())

let fileCounter = 0
function newPath(): string {
  return join(dir.path, `wal-${++fileCounter}.db`)
}

const opened = new Set<SqliteWriteAheadLog>()
afterEach(async () => {
  for (const log of opened) await log.close()
  opened.clear()
})

async function openLog(path = newPath(), maxBytes = 1 << 30): Promise<SqliteWriteAheadLog> {
  const log = createSqliteWriteAheadLog({ path, maxBytes })
  opened.add(log)
  await log.open()
  return log
}

async function reopen(log: SqliteWriteAheadLog, path: string, maxBytes = 1 << 30) {
  await log.close()
  return openLog(path, maxBytes)
}

/** An HLC-shaped version: wall ms × 1000 + counter. */
const T = 1_700_000_000_000
const hlc = (n: number) => T * 1000 + n
const BOTH: Route = { l2: true, l3: true, ttlMs: undefined }

function put(item: SyncItem, version: number, extra: Partial<PendingWrite> = {}): PendingWrite {
  const updatedAt = extra.updatedAt ?? Math.floor(version / 1000)
  return {
    id: item.id,
    version,
    updatedAt,
    item: item.withVersion(version, updatedAt),
    route: BOTH,
    expiresAt: 0,
    callerVersioned: false,
    ...extra,
  }
}

function json(id: string, version: number, value: unknown = { id, version }): PendingWrite {
  return put(SyncItem.fromJson(id, value), version)
}

function tombstone(id: string, version: number): PendingWrite {
  return {
    id,
    version,
    updatedAt: Math.floor(version / 1000),
    item: null,
    route: BOTH,
    expiresAt: 0,
    callerVersioned: false,
  }
}

/** Every field equal, content byte-identical, and content a plain Uint8Array (not a Node Buffer). */
function expectSameWrite(actual: PendingWrite | undefined, expected: PendingWrite): void {
  expect(actual).toBeDefined()
  const { item, ...rest } = actual!
  const { item: expectedItem, ...expectedRest } = expected
  expect(rest).toEqual(expectedRest)
  expect(rest.route).toStrictEqual({ ...expected.route })
  if (expectedItem === null) {
    expect(item).toBeNull()
    return
  }
  expect(item).toBeInstanceOf(SyncItem)
  expect(Object.getPrototypeOf(item!.content)).toBe(Uint8Array.prototype)
  expect(Buffer.isBuffer(item!.content)).toBe(false)
  expect(Buffer.compare(item!.content, expectedItem.content)).toBe(0)
  expect({
    id: item!.id,
    contentType: item!.contentType,
    mime: item!.mime,
    hash: item!.hash,
    state: item!.state,
    version: item!.version,
    updatedAt: item!.updatedAt,
  }).toEqual({
    id: expectedItem.id,
    contentType: expectedItem.contentType,
    mime: expectedItem.mime,
    hash: expectedItem.hash,
    state: expectedItem.state,
    version: expectedItem.version,
    updatedAt: expectedItem.updatedAt,
  })
}

async function readAll(log: SqliteWriteAheadLog) {
  return log.read(0, Number.MAX_SAFE_INTEGER)
}

function rowCount(path: string): number {
  const db = new Database(path, { readonly: true })
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM wal').get() as { n: number }).n
  } finally {
    db.close()
  }
}

describe('SqliteWriteAheadLog: what goes in comes back exactly', () => {
  const binary = new Uint8Array([0, 1, 2, 0xfe, 0xff, 0x00, 0x7b])
  const samples: [string, PendingWrite][] = [
    ['a JSON item', json('user:1', hlc(1), { name: 'Ada', tags: ['x', 'y'], n: 1.5, nested: { ok: true } })],
    [
      'a binary item with its mime and state',
      put(SyncItem.fromBinary('blob/1', binary, { mime: 'image/png', state: 'archived' }), hlc(2)),
    ],
    ['an empty binary item', put(SyncItem.fromBinary('empty', new Uint8Array(0)), hlc(3))],
    ['a tombstone', { ...tombstone('gone', hlc(4)), route: { l2: true, l3: true, ttlMs: undefined } }],
    [
      'a cache-only write with a TTL and an absolute expiry',
      put(SyncItem.fromJson('session:9', { s: 1 }), hlc(5), {
        route: { l2: true, l3: false, ttlMs: 60_000 },
        expiresAt: T + 60_000,
      }),
    ],
    [
      'a caller-versioned write (wall-clock updatedAt, small version)',
      put(SyncItem.fromJson('doc', { v: 7 }), 7, { callerVersioned: true, updatedAt: T + 5 }),
    ],
    [
      'a SQL-only write at the largest safe version',
      put(SyncItem.fromJson('max', [1, 2, 3]), Number.MAX_SAFE_INTEGER, {
        route: { l2: false, l3: true, ttlMs: undefined },
        updatedAt: 8_640_000_000_000_000,
      }),
    ],
    [
      'an item not stamped with the write version (kept as it was)',
      {
        ...json('raw', hlc(6)),
        item: SyncItem.fromJson('raw', { stamped: false }, { state: 's' }),
      },
    ],
    ['a multi-byte id', json('héllo/日本/🙂', hlc(8))],
  ]

  it.each(samples)('%s via read, latest and after reopening', async (_label, write) => {
    const path = newPath()
    let log = await openLog(path)
    await log.append([write])
    const [entry] = await log.read(0, 10)
    expect(entry?.seq).toBeGreaterThan(0)
    expectSameWrite(entry?.write, write)
    expectSameWrite(await log.latest(write.id), write)
    log = await reopen(log, path)
    expectSameWrite((await log.read(0, 10))[0]?.write, write)
    expectSameWrite(await log.latest(write.id), write)
    expect(log.stats()).toEqual({ entries: 1, bytes: walEntryBytes(write), maxBytes: 1 << 30 })
  })

  it('counts content + UTF-8 id + a fixed overhead per entry', async () => {
    const log = await openLog()
    const write = put(SyncItem.fromBinary('é🙂', new Uint8Array(10)), hlc(1))
    expect(walEntryBytes(write)).toBe(10 + 2 + 4 + WAL_ENTRY_OVERHEAD_BYTES)
    expect(walEntryBytes(tombstone('abc', 1))).toBe(3 + WAL_ENTRY_OVERHEAD_BYTES)
    await log.append([write, tombstone('abc', 1)])
    expect(log.stats().bytes).toBe(16 + 3 + 2 * WAL_ENTRY_OVERHEAD_BYTES)
  })
})

describe('SqliteWriteAheadLog: group commit', () => {
  it('commits 500 appends of one tick in one transaction, and resolves them only after it', async () => {
    const path = newPath()
    const log = await openLog(path)
    const appends = Array.from({ length: 500 }, (_, i) => log.append([json(`k${i}`, hlc(i + 1))]))
    // Nothing is committed within the tick: the appends wait for the group.
    expect(log.commits).toBe(0)
    expect(log.stats().entries).toBe(0)
    // The first append to resolve already sees every row of the group in the file.
    const visibleAtFirstAck = await Promise.race(appends.map((p) => p.then(() => rowCount(path))))
    expect(visibleAtFirstAck).toBe(500)
    await Promise.all(appends)
    expect(log.commits).toBe(1)
    expect(log.stats().entries).toBe(500)
    expect((await readAll(log)).map((e) => e.write.id)).toEqual(
      Array.from({ length: 500 }, (_, i) => `k${i}`),
    )
  })

  it('groups appends issued from promise continuations of the same tick', async () => {
    const log = await openLog()
    // Callers that await a few promises before appending (as a submit does) still share the commit.
    const submit = async (i: number) => {
      for (let hop = 0; hop < i % 7; hop++) await Promise.resolve()
      await log.append([json(`m${i}`, hlc(i + 1))])
    }
    await Promise.all(Array.from({ length: 70 }, (_, i) => submit(i)))
    expect(log.commits).toBe(1)
    expect(log.stats().entries).toBe(70)
  })

  it('commits appends of separate ticks separately', async () => {
    const log = await openLog()
    await log.append([json('a', hlc(1))])
    await log.append([json('b', hlc(2))])
    await Promise.all([log.append([json('c', hlc(3))]), log.append([json('d', hlc(4)), json('e', hlc(5))])])
    expect(log.commits).toBe(3)
    expect(log.stats().entries).toBe(5)
  })

  it('after a group of concurrent appends, gathers as many again over a few ticks; a lone writer commits at once', async () => {
    // Fake setTimeout only: the wait for company is bounded by a timer this test fires itself.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const log = await openLog()
      const tick = () => new Promise((resolve) => setImmediate(resolve))
      await Promise.all([1, 2, 3].map((i) => log.append([json(`p${i}`, hlc(i))])))
      expect(log.commits).toBe(1)
      // Three appends on three turns of the event loop: one commit once the third arrives.
      const spread: Promise<void>[] = []
      for (let i = 4; i <= 6; i++) {
        spread.push(log.append([json(`p${i}`, hlc(i))]))
        await tick()
        await tick()
      }
      await Promise.all(spread)
      expect(log.commits).toBe(2)
      // Fewer than last time: committed when the wait runs out, and the next group is a lone one.
      const alone = log.append([json('alone', hlc(7))])
      await tick()
      await tick()
      expect(log.commits).toBe(2)
      vi.advanceTimersByTime(1)
      await alone
      expect(log.commits).toBe(3)
      await log.append([json('next', hlc(8))])
      expect(log.commits).toBe(4)
      expect(log.stats().entries).toBe(8)
    } finally {
      vi.useRealTimers()
    }
  })

  it('fails only the call SQLite refuses; the rest of its group commits', async () => {
    const log = await openLog()
    const [g1, g2] = [json('g1', hlc(1)), json('g2', hlc(4))]
    const good1 = log.append([g1])
    const bad = log.append([json('bad-ok', hlc(2)), { ...json('bad', hlc(3)), version: Number.NaN }])
    const good2 = log.append([g2])
    await expect(bad).rejects.toThrow(/write-ahead log .*: append failed: NOT NULL/)
    await expect(good1).resolves.toBeUndefined()
    await expect(good2).resolves.toBeUndefined()
    expect((await readAll(log)).map((e) => e.write.id)).toEqual(['g1', 'g2'])
    expect(log.stats()).toMatchObject({ entries: 2, bytes: walEntryBytes(g1) + walEntryBytes(g2) })
  })

  it('fails the whole group at once when the file fails, and keeps working after', async () => {
    const log = await openLog()
    await log.append([json('before', hlc(1))])
    const probe = new Database(':memory:')
    const statement = Object.getPrototypeOf(probe.prepare('SELECT 1'))
    probe.close()
    const run = vi.spyOn(statement, 'run').mockImplementation(() => {
      throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL')
    })
    try {
      const calls = [log.append([json('x1', hlc(2))]), log.append([json('x2', hlc(3))])]
      for (const call of calls) await expect(call).rejects.toThrow(/append failed: database or disk is full/)
      // One attempt for the group: no call-by-call retry of a failing file.
      expect(run).toHaveBeenCalledTimes(1)
    } finally {
      run.mockRestore()
    }
    expect(log.stats()).toMatchObject({ entries: 1 })
    await log.append([json('after', hlc(4))])
    expect((await readAll(log)).map((e) => e.write.id)).toEqual(['before', 'after'])
  })

  it('refuses an item whose id is not the write id', async () => {
    const log = await openLog()
    await expect(log.append([{ ...json('a', hlc(1)), id: 'b' }])).rejects.toThrow(/another id/)
    expect(log.stats().entries).toBe(0)
  })

  it('resolves an empty append at once', async () => {
    const log = await openLog()
    await log.append([])
    expect(log.commits).toBe(0)
  })
})

describe('SqliteWriteAheadLog: durability', () => {
  it('keeps appends across close and reopen, and counts them at open', async () => {
    const path = newPath()
    let log = await openLog(path)
    const writes = Array.from({ length: 50 }, (_, i) => json(`d${i}`, hlc(i + 1)))
    await log.append(writes.slice(0, 20))
    await log.append(writes.slice(20))
    const before = await readAll(log)
    const stats = log.stats()
    log = await reopen(log, path)
    expect(log.stats()).toEqual(stats)
    const after = await readAll(log)
    expect(after.map((e) => e.seq)).toEqual(before.map((e) => e.seq))
    for (const [i, entry] of after.entries()) expectSameWrite(entry.write, writes[i]!)
  })

  it('close commits appends still pending', async () => {
    const path = newPath()
    let log = await openLog(path)
    const pending = log.append([json('late', hlc(1))])
    await log.close()
    await expect(pending).resolves.toBeUndefined()
    log = await openLog(path)
    expect((await readAll(log)).map((e) => e.write.id)).toEqual(['late'])
  })

  it('keeps every acknowledged append when the process is killed with SIGKILL', async () => {
    const path = newPath()
    const acked = 300
    const script = join(dir.path, 'append-then-wait.mts')
    const url = (p: string) => JSON.stringify(new URL(p, `file://${ROOT}`).href)
    writeFileSync(
      script,
      `const { SyncItem } = await import(${url('packages/core/src/index.ts')})
const { SqliteWriteAheadLog } = await import(${url('packages/sql-sqlite/src/index.ts')})
const log = new SqliteWriteAheadLog({ path: ${JSON.stringify(path)}, maxBytes: 1 << 30 })
await log.open()
const write = (id, version) => {
  const item = SyncItem.fromJson(id, { id, pad: 'x'.repeat(150) }).withVersion(version, ${T})
  return { id, version, updatedAt: ${T}, item, route: { l2: true, l3: true, ttlMs: undefined }, expiresAt: 0, callerVersioned: false }
}
const calls = []
for (let i = 0; i < ${acked}; i++) {
  calls.push(log.append([write('acked-' + i, ${hlc(1)} + i)]))
  // Spread over several ticks, so several group commits.
  if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve))
}
await Promise.all(calls)
process.stdout.write('acked\\n')
// Keep committing two-write calls, so the kill lands while commits are under way.
for (let k = 0; ; k++) await log.append([write('extra-' + k + '-a', ${hlc(10_000)} + k), write('extra-' + k + '-b', ${hlc(10_000)} + k)])
`,
    )
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = once(child, 'exit')
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk)
    })
    try {
      await new Promise<void>((resolve, reject) => {
        let stdout = ''
        child.stdout.on('data', (chunk) => {
          stdout += String(chunk)
          if (stdout.includes('acked\n')) resolve()
        })
        void exited.then(() => reject(new Error(`child exited before acking: ${stderr}`)))
      })
      // Let a few more commits start, then kill -9 by PID.
      await new Promise((resolve) => setTimeout(resolve, 50))
      process.kill(child.pid!, 'SIGKILL')
      const [code, signal] = await exited
      expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' })
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }

    const log = await openLog(path)
    const entries = await readAll(log)
    const ids = entries.map((e) => e.write.id)
    expect(ids.slice(0, acked)).toEqual(Array.from({ length: acked }, (_, i) => `acked-${i}`))
    for (const entry of entries.slice(0, acked)) {
      expect(entry.write.item?.json()).toEqual({ id: entry.write.id, pad: 'x'.repeat(150) })
    }
    // Commits cut short by the kill are gone whole: every extra call has both its writes or none.
    const extras = ids.slice(acked)
    expect(extras.length % 2).toBe(0)
    for (let i = 0; i < extras.length; i += 2) {
      expect([extras[i], extras[i + 1]]).toEqual([`extra-${i / 2}-a`, `extra-${i / 2}-b`])
    }
    expect(log.stats().entries).toBe(entries.length)
    expect(log.stats().bytes).toBe(entries.reduce((sum, e) => sum + walEntryBytes(e.write), 0))
  })
})

describe('SqliteWriteAheadLog: the byte bound', () => {
  const entry = (id: string, version: number) => json(id, version, { pad: 'p'.repeat(36) })
  const size = walEntryBytes(entry('e0', 1))

  it('refuses a call that would pass maxBytes, appends none of it, and keeps working', async () => {
    const path = newPath()
    const log = await openLog(path, 3 * size)
    await log.append([entry('e0', hlc(1)), entry('e1', hlc(2))])
    const before = { stats: log.stats(), rows: await readAll(log), commits: log.commits }

    const refused = log.append([entry('e2', hlc(3)), entry('e3', hlc(4))])
    await expect(refused).rejects.toBeInstanceOf(WalFullError)
    await expect(refused).rejects.toMatchObject({ bytes: 2 * size, maxBytes: 3 * size, code: 'WAL_FULL' })
    expect(log.stats()).toEqual(before.stats)
    expect(await readAll(log)).toEqual(before.rows)
    expect(log.commits).toBe(before.commits)
    expect(rowCount(path)).toBe(2)

    // Exactly at the bound fits.
    await log.append([entry('e2', hlc(3))])
    expect(log.stats()).toEqual({ entries: 3, bytes: 3 * size, maxBytes: 3 * size })
    await expect(log.append([tombstone('x', hlc(5))])).rejects.toBeInstanceOf(WalFullError)
    // Room freed by a remove is usable again.
    await log.remove([{ id: 'e0', version: hlc(1) }])
    await log.append([entry('e3', hlc(4))])
    expect((await readAll(log)).map((e) => e.write.id)).toEqual(['e1', 'e2', 'e3'])
  })

  it('counts the appends of the same tick still pending, in call order', async () => {
    const log = await openLog(newPath(), 3 * size)
    const first = log.append([entry('ea', hlc(1)), entry('eb', hlc(2))])
    const tooBig = log.append([entry('ec', hlc(3)), entry('ed', hlc(4))])
    const fits = log.append([entry('ee', hlc(5))])
    const full = log.append([entry('ef', hlc(6))])
    await expect(tooBig).rejects.toBeInstanceOf(WalFullError)
    await expect(full).rejects.toMatchObject({ bytes: 3 * size })
    await Promise.all([first, fits])
    expect((await readAll(log)).map((e) => e.write.id)).toEqual(['ea', 'eb', 'ee'])
    expect(log.stats()).toEqual({ entries: 3, bytes: 3 * size, maxBytes: 3 * size })
    expect(log.commits).toBe(1)
  })

  it('refuses a single call larger than the whole bound', async () => {
    const log = await openLog(newPath(), size - 1)
    await expect(log.append([entry('e0', hlc(1))])).rejects.toMatchObject({ bytes: 0, maxBytes: size - 1 })
    expect(log.stats().entries).toBe(0)
  })

  it('rejects nonsense options', () => {
    expect(() => new SqliteWriteAheadLog({ path: newPath(), maxBytes: 0 })).toThrow(/maxBytes/)
    expect(() => new SqliteWriteAheadLog({ path: newPath(), maxBytes: Number.NaN })).toThrow(/maxBytes/)
    expect(
      () => new SqliteWriteAheadLog({ path: newPath(), maxBytes: 1, synchronous: 'off' as 'full' }),
    ).toThrow(/synchronous/)
    expect(
      () =>
        new SqliteWriteAheadLog({ path: newPath(), maxBytes: 1, readThread: 'yes' as unknown as boolean }),
    ).toThrow(/readThread/)
  })
})

describe('SqliteWriteAheadLog: remove, read, latest', () => {
  it('removes the entries of an id at or below the settled version, nothing else', async () => {
    const log = await openLog()
    const writes = [
      json('a', hlc(1)),
      json('b', hlc(1)),
      json('a', hlc(2)),
      tombstone('a', hlc(3)),
      json('b', hlc(5)),
      json('c', hlc(2)),
    ]
    await log.append(writes)
    await log.remove([{ id: 'a', version: hlc(2) }])
    let left = (await readAll(log)).map((e) => e.write)
    expect(left.map((w) => `${w.id}@${w.version - hlc(0)}`)).toEqual(['b@1', 'a@3', 'b@5', 'c@2'])
    expect(log.stats()).toMatchObject({
      entries: 4,
      bytes: left.reduce((sum, w) => sum + walEntryBytes(w), 0),
    })

    // Unknown ids, versions below everything, duplicates: only what is settled goes.
    await log.remove([
      { id: 'zzz', version: hlc(100) },
      { id: 'c', version: hlc(1) },
      { id: 'b', version: hlc(1) },
      { id: 'b', version: hlc(4) },
    ])
    left = (await readAll(log)).map((e) => e.write)
    expect(left.map((w) => `${w.id}@${w.version - hlc(0)}`)).toEqual(['a@3', 'b@5', 'c@2'])
    expect(log.stats().entries).toBe(3)

    await log.remove([])
    await log.remove([
      { id: 'a', version: Number.MAX_SAFE_INTEGER },
      { id: 'b', version: hlc(5) },
      { id: 'c', version: hlc(2) },
    ])
    expect(await readAll(log)).toEqual([])
    expect(log.stats()).toMatchObject({ entries: 0, bytes: 0 })
  })

  it('removes 5,000 settled writes in one call', async () => {
    const log = await openLog()
    const writes = Array.from({ length: 5_000 }, (_, i) => json(`bulk${i}`, hlc(i)))
    await log.append(writes)
    await log.append([json('keep', hlc(1))])
    await log.remove(writes.map(({ id, version }) => ({ id, version })))
    expect((await readAll(log)).map((e) => e.write.id)).toEqual(['keep'])
    expect(log.stats()).toMatchObject({ entries: 1, bytes: walEntryBytes(json('keep', hlc(1))) })
  })

  it('removeThrough deletes every entry up to a seq, keeps the later ones, and keeps stats exact', async () => {
    const path = newPath()
    const log = await openLog(path)
    await log.append([json('a', hlc(1)), json('b', hlc(1)), json('a', hlc(2))])
    const through = (await readAll(log))[1]!.seq
    await log.append([json('c', hlc(1))])
    await log.removeThrough(through)
    const left = (await readAll(log)).map((e) => e.write)
    expect(left.map((w) => `${w.id}@${w.version - hlc(0)}`)).toEqual(['a@2', 'c@1'])
    expect(log.stats()).toMatchObject({
      entries: 2,
      bytes: left.reduce((sum, w) => sum + walEntryBytes(w), 0),
    })
    await log.removeThrough(0)
    expect(log.stats().entries).toBe(2)
    await log.close()
    const reopened = await openLog(path)
    expect(reopened.stats()).toMatchObject({
      entries: 2,
      bytes: left.reduce((sum, w) => sum + walEntryBytes(w), 0),
    })
  })

  it('removeThrough hides entries at once, deletes their rows in the background, and both survive a reopen', async () => {
    const path = newPath()
    let log = await openLog(path)
    // More rows than one compaction step deletes.
    const writes = Array.from({ length: 5_000 }, (_, i) => json(`r${i}`, hlc(i)))
    await log.append(writes)
    const entries = await readAll(log)
    const through = entries[3_999]!.seq
    const kept = writes.slice(4_000)
    const keptBytes = kept.reduce((sum, w) => sum + walEntryBytes(w), 0)
    await log.removeThrough(through)
    expect(log.stats()).toMatchObject({ entries: 1_000, bytes: keptBytes })
    // Closed in the same tick: no row deleted yet, the watermark alone says what is gone.
    await log.close()
    expect(rowCount(path)).toBe(5_000)
    log = await openLog(path)
    expect(log.stats()).toMatchObject({ entries: 1_000, bytes: keptBytes })
    expect((await readAll(log)).map((e) => e.write.id)).toEqual(kept.map((w) => w.id))
    expect((await log.read(0, 10)).map((e) => e.write.id)).toEqual(kept.slice(0, 10).map((w) => w.id))
    expect(await log.latest('r0')).toBeUndefined()
    expect((await log.latest('r4000'))?.version).toBe(hlc(4_000))
    // A remove by id of a removed entry counts nothing twice.
    await log.remove([{ id: 'r1', version: hlc(1) }])
    expect(log.stats().entries).toBe(1_000)
    // The open resumed deleting the rows.
    await vi.waitFor(() => expect(rowCount(path)).toBe(1_000), { timeout: 10_000, interval: 20 })
    expect((await readAll(log)).map((e) => e.write.id)).toEqual(kept.map((w) => w.id))
    // A watermark never moves back, nor past the newest entry (the next append stays visible).
    await log.removeThrough(entries[10]!.seq)
    expect(log.stats()).toMatchObject({ entries: 1_000, bytes: keptBytes })
    await log.removeThrough(Number.MAX_SAFE_INTEGER)
    expect(log.stats()).toMatchObject({ entries: 0, bytes: 0 })
    await log.append([json('after', hlc(9_999))])
    expect((await log.read(0, 10)).map((e) => e.write.id)).toEqual(['after'])
  })

  it('opens a log of format 1 (no watermark) with every entry, and upgrades it', async () => {
    const path = newPath()
    const log = await openLog(path)
    const writes = [json('a', hlc(1)), tombstone('b', hlc(2)), json('c', hlc(3))]
    await log.append(writes)
    await log.close()
    const db = new Database(path)
    db.exec('DROP TABLE wal_meta')
    db.pragma('user_version = 1')
    db.close()
    const reopened = await openLog(path)
    const entries = await reopened.read(0, 10)
    expect(entries).toHaveLength(3)
    for (const [i, entry] of entries.entries()) expectSameWrite(entry.write, writes[i]!)
    await reopened.removeThrough(entries[0]!.seq)
    expect((await reopened.read(0, 10)).map((e) => e.write.id)).toEqual(['b', 'c'])
    await reopened.close()
    const check = new Database(path, { readonly: true })
    expect(check.pragma('user_version', { simple: true })).toBe(2)
    check.close()
  })

  it('reads a page on the reader thread exactly as it reads it inline', async () => {
    const path = newPath()
    const log = await openLog(path)
    const writes: PendingWrite[] = []
    for (let i = 0; i < 700; i++) {
      const kind = i % 5
      if (kind === 0) writes.push(tombstone(`t${i}`, hlc(i)))
      else if (kind === 1)
        writes.push(put(SyncItem.fromBinary(`b${i}`, new Uint8Array([i & 255, 0, 255])), hlc(i)))
      else if (kind === 2)
        writes.push({
          ...json(`x${i}`, hlc(i)),
          route: { l2: true, l3: false, ttlMs: 5_000 },
          expiresAt: T + i,
        })
      else if (kind === 3)
        writes.push(put(SyncItem.fromJson(`v${i}`, { i }), i + 1, { callerVersioned: true }))
      else writes.push(json(`é${i}`, hlc(i), { text: 'ünïcödé ✓', i }))
    }
    await log.append(writes)
    // 700 entries in one call: the reader thread; pages of 100: inline.
    const threaded = await log.read(0, 700)
    const inline: Awaited<ReturnType<typeof log.read>> = []
    for (let after = 0; ; ) {
      const page = await log.read(after, 100)
      if (page.length === 0) break
      inline.push(...page)
      after = page.at(-1)!.seq
    }
    expect(threaded.map((e) => e.seq)).toEqual(inline.map((e) => e.seq))
    threaded.forEach((entry, i) => {
      expectSameWrite(entry.write, writes[i]!)
      expectSameWrite(inline[i]!.write, writes[i]!)
    })
    // The thread sees what was appended just before the call.
    const appended = log.append([json('late', hlc(10_000))])
    expect((await log.read(threaded.at(-1)!.seq, 1_000)).map((e) => e.write.id)).toEqual(['late'])
    await appended
  })

  it('keys are the seq, id and version of what read returns; readSeqs returns the entries still there', async () => {
    const log = await openLog()
    const writes = Array.from({ length: 600 }, (_, i) =>
      i % 7 === 0 ? tombstone(`k${i % 50}`, hlc(i)) : json(`k${i % 50}`, hlc(i)),
    )
    await log.append(writes)
    const entries = await log.read(0, 1_000)
    const expected = entries.map((e) => ({ seq: e.seq, id: e.write.id, version: e.write.version }))
    // 600 keys at once on the reader thread; pages of 100 inline.
    expect(await log.keys(0, 1_000)).toEqual(expected)
    const paged = []
    for (let after = 0; ; ) {
      const page = await log.keys(after, 100)
      if (page.length === 0) break
      paged.push(...page)
      after = page.at(-1)!.seq
    }
    expect(paged).toEqual(expected)
    expect(await log.keys(expected[9]!.seq, 3)).toEqual(expected.slice(10, 13))

    // By seq, oldest first, whatever the order asked; gone or removed entries are simply absent.
    const wanted = [expected[599]!.seq, expected[0]!.seq, expected[300]!.seq, expected[1]!.seq, 10 ** 9]
    await log.removeThrough(expected[0]!.seq)
    const found = await log.readSeqs(wanted)
    expect(found.map((e) => e.seq)).toEqual([expected[1]!.seq, expected[300]!.seq, expected[599]!.seq])
    expectSameWrite(found[0]!.write, writes[1]!)
    expectSameWrite(found[2]!.write, writes[599]!)
    // More seqs than one statement binds.
    const many = await log.readSeqs(expected.map((k) => k.seq))
    expect(many.map((e) => e.seq)).toEqual(expected.slice(1).map((k) => k.seq))
    expect(await log.readSeqs([])).toEqual([])
    await expect(log.readSeqs([1, Number.NaN])).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(log.readSeqs([1.5])).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(log.keys(0, -1)).rejects.toBeInstanceOf(InvalidArgumentError)
  })

  it('takes effect in call order: a remove sees the appends issued before it', async () => {
    const log = await openLog()
    const appended = log.append([json('x', hlc(1))])
    await log.remove([{ id: 'x', version: hlc(1) }])
    await appended
    expect(log.stats().entries).toBe(0)
    const again = log.append([json('y', hlc(2))])
    expect((await log.latest('y'))?.version).toBe(hlc(2))
    await again
  })

  it('reads pages by seq, oldest first, and never reuses a seq', async () => {
    const path = newPath()
    let log = await openLog(path)
    for (let i = 0; i < 25; i++) await log.append([json(`p${i}`, hlc(i))])
    const pages: string[][] = []
    let after = 0
    for (;;) {
      const page = await log.read(after, 10)
      if (page.length === 0) break
      pages.push(page.map((e) => e.write.id))
      after = page.at(-1)!.seq
    }
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5])
    expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, i) => `p${i}`))
    const seqs = (await readAll(log)).map((e) => e.seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(new Set(seqs).size).toBe(25)
    expect(await log.read(seqs.at(-1)!, 10)).toEqual([])
    expect(await log.read(0, 0)).toEqual([])
    await expect(log.read(0, -1)).rejects.toThrow(/limit/)

    // Removing the newest entries does not free their seqs, not even across a reopen.
    await log.remove([{ id: 'p24', version: hlc(24) }])
    log = await reopen(log, path)
    await log.append([json('p25', hlc(25))])
    expect((await log.read(seqs.at(-2)!, 10)).map((e) => [e.write.id, e.seq > seqs.at(-1)!])).toEqual([
      ['p25', true],
    ])
  })

  it('latest is the highest version of the id, whatever the append order', async () => {
    const log = await openLog()
    expect(await log.latest('a')).toBeUndefined()
    const newest = json('a', hlc(5), { v: 5 })
    await log.append([json('a', hlc(1)), newest, json('b', hlc(9))])
    await log.append([put(SyncItem.fromJson('a', { v: 3 }), 3, { callerVersioned: true })])
    expectSameWrite(await log.latest('a'), newest)
    await log.append([tombstone('a', hlc(6))])
    expect((await log.latest('a'))?.item).toBeNull()
    await log.remove([{ id: 'a', version: hlc(6) }])
    expect(await log.latest('a')).toBeUndefined()
    expect((await log.latest('b'))?.version).toBe(hlc(9))
  })
})

describe('SqliteWriteAheadLog: lifecycle', () => {
  it('refuses every call before open and after close, and closes idempotently', async () => {
    const log = new SqliteWriteAheadLog({ path: newPath(), maxBytes: 1000 })
    await expect(log.append([json('a', 1)])).rejects.toThrow(/not open yet: cannot append/)
    await expect(log.read(0, 1)).rejects.toThrow(/not open yet/)
    await log.open()
    await log.open()
    await log.close()
    await log.close()
    await expect(log.append([json('a', 1)])).rejects.toThrow(/is closed: cannot append/)
    await expect(log.read(0, 1)).rejects.toThrow(/is closed: cannot read/)
    await expect(log.remove([])).rejects.toThrow(/is closed: cannot remove/)
    await expect(log.latest('a')).rejects.toThrow(/is closed/)
    await expect(log.open()).rejects.toThrow(/is closed: cannot open/)
    expect(log.driver).toBe('better-sqlite3')
  })

  it('opens its file in WAL mode with synchronous FULL by default, NORMAL on request', async () => {
    // synchronous is per connection, not stored in the file: watch what the log sets.
    const pragma = vi.spyOn(Database.prototype, 'pragma')
    try {
      const path = newPath()
      await (await openLog(path)).close()
      expect(pragma).toHaveBeenCalledWith('journal_mode = WAL')
      expect(pragma).toHaveBeenCalledWith('synchronous = FULL')
      expect(pragma).not.toHaveBeenCalledWith('synchronous = NORMAL')
      pragma.mockClear()
      const normal = createSqliteWriteAheadLog({ path: newPath(), maxBytes: 1000, synchronous: 'normal' })
      opened.add(normal)
      await normal.open()
      expect(pragma).toHaveBeenCalledWith('synchronous = NORMAL')
      const db = new Database(path, { readonly: true })
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
      db.close()
    } finally {
      pragma.mockRestore()
    }
  })

  it('refuses a log written in a newer format', async () => {
    const path = newPath()
    await (await openLog(path)).close()
    const db = new Database(path)
    db.pragma('user_version = 99')
    db.close()
    const log = new SqliteWriteAheadLog({ path, maxBytes: 1000 })
    await expect(log.open()).rejects.toThrow(/log format 99/)
  })
})

describe('SqliteWriteAheadLog: against a model', () => {
  const ids = ['a', 'b', 'c', 'é']
  const writeArb = fc
    .record({
      id: fc.constantFrom(...ids),
      version: fc.integer({ min: 1, max: 20 }),
      content: fc.option(fc.uint8Array({ maxLength: 48 }), { nil: null }),
    })
    .map(({ id, version, content }) =>
      content === null ? tombstone(id, hlc(version)) : put(SyncItem.fromBinary(id, content), hlc(version)),
    )
  const callArb = fc.array(writeArb, { minLength: 1, maxLength: 3 })
  const opArb = fc.oneof(
    {
      arbitrary: fc.record({
        kind: fc.constant('append' as const),
        calls: fc.array(callArb, { minLength: 1, maxLength: 4 }),
      }),
      weight: 4,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('remove' as const),
        settled: fc.array(
          fc.record({ id: fc.constantFrom(...ids), version: fc.integer({ min: 0, max: 21 }).map(hlc) }),
          { maxLength: 4 },
        ),
      }),
      weight: 2,
    },
    {
      arbitrary: fc.record({ kind: fc.constant('removeThrough' as const), index: fc.nat({ max: 12 }) }),
      weight: 1,
    },
    { arbitrary: fc.constant({ kind: 'reopen' as const }), weight: 1 },
  )
  const MAX_BYTES = 700

  it('stats and contents equal the model after any append / remove / reopen sequence', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 14 }), async (ops) => {
        const path = newPath()
        let log = await openLog(path, MAX_BYTES)
        let model: PendingWrite[] = []
        const modelBytes = () => model.reduce((sum, w) => sum + walEntryBytes(w), 0)
        for (const op of ops) {
          if (op.kind === 'append') {
            // The calls of one op share a tick (one group): admitted in call order.
            const results = await Promise.allSettled(op.calls.map((call) => log.append(call)))
            results.forEach((result, i) => {
              const call = op.calls[i]!
              const bytes = call.reduce((sum, w) => sum + walEntryBytes(w), 0)
              if (modelBytes() + bytes <= MAX_BYTES) {
                expect(result.status).toBe('fulfilled')
                model.push(...call)
              } else {
                expect(result.status).toBe('rejected')
                expect((result as PromiseRejectedResult).reason).toBeInstanceOf(WalFullError)
              }
            })
          } else if (op.kind === 'remove') {
            await log.remove(op.settled)
            model = model.filter((w) => !op.settled.some((s) => s.id === w.id && w.version <= s.version))
          } else if (op.kind === 'removeThrough') {
            // Through the seq of the model's index-th entry (or past the end).
            const seqs = (await readAll(log)).map((e) => e.seq)
            const seq = seqs[op.index] ?? (seqs.at(-1) ?? 0) + 1
            await log.removeThrough(seq)
            model = model.slice(Math.min(op.index + 1, model.length))
          } else {
            log = await reopen(log, path, MAX_BYTES)
          }
          expect(log.stats()).toEqual({ entries: model.length, bytes: modelBytes(), maxBytes: MAX_BYTES })
        }
        const entries = await readAll(log)
        expect(entries.length).toBe(model.length)
        for (const [i, entry] of entries.entries()) expectSameWrite(entry.write, model[i]!)
        for (const id of ids) {
          const ofId = model.filter((w) => w.id === id)
          const top = ofId.reduce<PendingWrite | undefined>(
            (best, w) => (best && best.version >= w.version ? best : w),
            undefined,
          )
          expect((await log.latest(id))?.version).toBe(top?.version)
        }
        await log.close()
        opened.delete(log)
      }),
      { numRuns: 60 },
    )
  })
})
