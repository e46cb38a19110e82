import {
  BackendError,
  EngineStateError,
  FlushError,
  MemoryL2Store,
  SyncEngine,
  SyncItem,
} from '@sync-engine/core'
import { createSqliteStore, SqliteWriteAheadLog } from '@sync-engine/sql-sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import { FlakyL3 } from '../../support/flaky-l3.ts'
import { makeTempDir } from '../../support/temp-dir.ts'

/** Breakers that open on the first failure and probe again soon: outages play out quickly. */
const FAST_BREAKERS = { l3: { failureThreshold: 1, openMs: 20, maxOpenMs: 20 } }

const dirs: { remove: () => void }[] = []
const engines: SyncEngine[] = []

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.shutdown().catch(() => {})
  for (const dir of dirs.splice(0)) dir.remove()
})

function files() {
  const dir = makeTempDir('engine-wal')
  dirs.push(dir)
  return { sync: `${dir.path}/sync.db`, wal: `${dir.path}/wal.db` }
}

function open(
  paths: { sync: string; wal: string },
  options: { down?: boolean; requireL3AtStart?: boolean; queueMaxBytes?: number } = {},
) {
  const l3 = new FlakyL3(createSqliteStore({ path: paths.sync }))
  l3.down = options.down ?? false
  const wal = new SqliteWriteAheadLog({ path: paths.wal, maxBytes: 64 * 1024 * 1024 })
  const engine = new SyncEngine({
    l3,
    wal,
    breakers: FAST_BREAKERS,
    config: {
      requireL3AtStart: options.requireL3AtStart ?? false,
      batchFlushMs: 10,
      ...(options.queueMaxBytes === undefined ? {} : { queueMaxBytes: options.queueMaxBytes }),
    },
  })
  engines.push(engine)
  return { engine, l3, wal }
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`gave up waiting for: ${what}`)
}

const item = (id: string, n: number) => SyncItem.fromJson(id, { n })

describe('ack logged and the write-ahead log', () => {
  it('is the default with a log: the receipt says logged and the write is in the log before it is stored', async () => {
    const paths = files()
    const { engine } = open(paths)
    await engine.start()
    const receipt = await engine.submit(item('a', 1))
    expect(receipt.ack).toBe('logged')
    const health = await engine.health()
    expect(health.wal).toMatchObject({ configured: true })
    expect(health.wal.configured && health.wal.entries).toBeGreaterThanOrEqual(1)
  })

  it('replays logged writes a crashed engine never stored, at the next start', async () => {
    const paths = files()
    const first = open(paths)
    await first.engine.start()
    // L3 refuses every flush: the acknowledged writes exist only in the log when the process "dies".
    first.l3.failWrites = Number.MAX_SAFE_INTEGER
    const receipts = await Promise.all([1, 2, 3].map((n) => first.engine.submit(item(`crash-${n}`, n))))
    expect(receipts.every((r) => r.ack === 'logged')).toBe(true)
    // No shutdown: the process is gone. Its log file stays; only the handles are dropped.
    await first.wal.close()
    engines.splice(engines.indexOf(first.engine), 1)

    const second = open(paths)
    await second.engine.start()
    for (const [n, receipt] of receipts.entries()) {
      const found = await second.engine.get(`crash-${n + 1}`)
      expect(found?.version).toBe(receipt.version)
      expect(found?.json()).toEqual({ n: n + 1 })
    }
    const stored = await createSqliteStore({ path: paths.sync }).read(['crash-1', 'crash-2', 'crash-3'])
    expect(stored.size).toBe(3)
    const health = await second.engine.health()
    expect(health.wal.configured && health.wal.drained).toBe(3)
  })

  it('parks flushes in the log while L3 is down, serves them from there, and drains them when L3 returns', async () => {
    const { engine, l3 } = open(files())
    await engine.start()
    l3.down = true
    const receipts = await Promise.all(
      Array.from({ length: 50 }, (_, n) => engine.submit(item(`park-${n}`, n), { ack: 'queued' })),
    )
    await until(async () => {
      const health = await engine.health()
      return health.queue.depth === 0 && health.wal.configured && health.wal.parked === 50
    }, 'every write parked')
    const degraded = await engine.health()
    expect(degraded.degraded).toContain('l3')
    // Read your writes: nothing is queued in memory and L3 is unreachable; the log answers.
    expect((await engine.get('park-7'))?.version).toBe(receipts[7]!.version)
    expect((await engine.getMany(['park-8', 'park-9'])).map((found) => found?.version)).toEqual([
      receipts[8]!.version,
      receipts[9]!.version,
    ])
    expect(await engine.status('park-10')).toMatchObject({ kind: 'pending', version: receipts[10]!.version })

    l3.down = false
    await until(async () => (await engine.health()).degraded.length === 0, 'the log drained')
    const health = await engine.health()
    expect(health.wal.configured && health.wal.parked).toBe(0)
    for (const [n, receipt] of receipts.entries()) {
      expect(await engine.status(`park-${n}`)).toMatchObject({
        kind: 'synced',
        version: receipt.version,
        l3: true,
      })
    }
  })

  for (const held of ['all', 'some'] as const) {
    it(`drains what it parked with ${held} of the writes held in memory: reads keys${held === 'all' ? '' : ' and the rest by seq'}, stores every acknowledged version`, async () => {
      const { engine, l3, wal } = open(files())
      // Counted from the start: drain attempts during the outage read the log too.
      const calls = { read: 0, keys: 0, bySeq: new Set<number>() }
      const read = wal.read.bind(wal)
      const keys = wal.keys.bind(wal)
      const readSeqs = wal.readSeqs.bind(wal)
      wal.read = (after, limit) => {
        calls.read++
        return read(after, limit)
      }
      wal.keys = (after, limit) => {
        calls.keys++
        return keys(after, limit)
      }
      wal.readSeqs = (seqs) => {
        for (const seq of seqs) calls.bySeq.add(seq)
        return readSeqs(seqs)
      }
      await engine.start()
      l3.down = true
      const receipts = await Promise.all(
        Array.from({ length: 30 }, (_, n) => engine.submit(item(`held-${n}`, n))),
      )
      if (held === 'some') {
        // Past the memory budget (the queue's), parked writes are only in the log. Five at a time
        // keeps the queue itself well below that budget.
        await until(async () => {
          const health = await engine.health()
          return health.queue.depth === 0 && health.wal.configured && health.wal.parked === 30
        }, 'the first 30 parked')
        engine.reconfigure({ queueMaxBytes: 6_000 })
      }
      for (let n = 30; n < 60; n += 5) {
        const chunk = [n, n + 1, n + 2, n + 3, n + 4].map((k) => engine.submit(item(`held-${k}`, k)))
        receipts.push(...(await Promise.all(chunk)))
      }
      // A newer version of one id, parked too: only it may be stored (its older entry is not held).
      const newer = await engine.submit(item('held-3', 1_000))
      await until(async () => {
        const health = await engine.health()
        return health.queue.depth === 0 && health.wal.configured && health.wal.parked === 60
      }, 'every write parked')
      const seqOf = new Map((await keys(0, 1_000)).map((k) => [`${k.id}@${k.version}`, k.seq]))
      l3.down = false
      await until(async () => (await engine.health()).degraded.length === 0, 'the log drained')

      expect(calls.keys).toBeGreaterThan(0)
      expect(calls.read).toBe(0)
      // Read in full: held-3's superseded entry, and (past the budget) the writes parked after it.
      const expected = [seqOf.get(`held-3@${receipts[3]!.version}`)]
      if (held === 'some') {
        for (let n = 30; n < 60; n++) expected.push(seqOf.get(`held-${n}@${receipts[n]!.version}`))
        expected.push(seqOf.get(`held-3@${newer.version}`))
      }
      expect([...calls.bySeq].sort((a, b) => a - b)).toEqual(expected)
      for (const [n, receipt] of receipts.entries()) {
        const version = n === 3 ? newer.version : receipt.version
        expect(await engine.status(`held-${n}`)).toMatchObject({ kind: 'synced', version, l3: true })
      }
      expect((await engine.get('held-3'))?.json()).toEqual({ n: 1_000 })
      const health = await engine.health()
      expect(health.wal.configured && [health.wal.parked, health.wal.entries]).toEqual([0, 0])
    })
  }

  it('after a restart with L3 still down, holds the parked writes it read at start: the drain reads only keys', async () => {
    const paths = files()
    const first = open(paths)
    await first.engine.start()
    first.l3.down = true
    const receipts = await Promise.all(
      Array.from({ length: 40 }, (_, n) => first.engine.submit(item(`again-${n}`, n))),
    )
    await until(async () => {
      const health = await first.engine.health()
      return health.queue.depth === 0 && health.wal.configured && health.wal.parked === 40
    }, 'every write parked')
    // The process dies; the next one starts while L3 is still down.
    await first.wal.close()
    engines.splice(engines.indexOf(first.engine), 1)
    const second = open(paths, { down: true })
    await second.engine.start()
    expect((await second.engine.health()).wal).toMatchObject({ parked: 40 })
    const fullReads: number[] = []
    const read = second.wal.read.bind(second.wal)
    const readSeqs = second.wal.readSeqs.bind(second.wal)
    second.wal.read = async (after, limit) => {
      const entries = await read(after, limit)
      fullReads.push(entries.length)
      return entries
    }
    second.wal.readSeqs = async (seqs) => {
      const entries = await readSeqs(seqs)
      fullReads.push(entries.length)
      return entries
    }
    // Served from memory while L3 is down.
    expect((await second.engine.get('again-5'))?.version).toBe(receipts[5]!.version)
    second.l3.down = false
    await until(async () => (await second.engine.health()).degraded.length === 0, 'the log drained')
    expect(fullReads.reduce((sum, n) => sum + n, 0)).toBe(0)
    for (const [n, receipt] of receipts.entries()) {
      expect(await second.engine.status(`again-${n}`)).toMatchObject({
        kind: 'synced',
        version: receipt.version,
      })
    }
  })

  it('an ack stored write that lands in the log while L3 is down is reported as not stored (typed), and still drains', async () => {
    const { engine, l3 } = open(files())
    await engine.start()
    l3.down = true
    const error = await engine.submit(item('stored-1', 1), { ack: 'stored' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FlushError)
    l3.down = false
    await until(async () => (await engine.status('stored-1')).kind === 'synced', 'drained')
    expect((await engine.get('stored-1'))?.json()).toEqual({ n: 1 })
  })

  it('a read racing a logged write (prepared, not yet queued) does not leave the older version in L1', async () => {
    const { engine } = open(files())
    await engine.start()
    const first = await engine.submit(item('race-l1', 1), { ack: 'stored' })
    const logging = engine.submit(item('race-l1', 2), { ack: 'logged' })
    // Microtasks only: the write is prepared and its append waits for the group commit (a macrotask).
    for (let i = 0; i < 20; i++) await null
    // This read finds the write neither queued nor parked, and reads version 1 from L3 (allowed:
    // the write is not acknowledged yet).
    expect((await engine.get('race-l1'))?.version).toBe(first.version)
    const second = await logging
    expect((await engine.get('race-l1'))?.version).toBe(second.version)
  })

  it('does not answer with a parked write when L2 holds a newer cache-only write of its id', async () => {
    // A delete parked in the log (L3 down), then a cache-only write of the same id: the newer
    // write is the answer, from L2, for get and getMany alike, before and after the drain.
    const paths = files()
    const l3 = new FlakyL3(createSqliteStore({ path: paths.sync }))
    const engine = new SyncEngine({
      l2: new MemoryL2Store(),
      l3,
      wal: new SqliteWriteAheadLog({ path: paths.wal, maxBytes: 1 << 20 }),
      breakers: FAST_BREAKERS,
      config: { batchFlushMs: 10, requireL3AtStart: false },
    })
    engines.push(engine)
    await engine.start()
    await engine.submit(item('p', 1), { ack: 'stored' })
    l3.down = true
    await engine.delete('p', { ack: 'queued' })
    await until(async () => {
      const health = await engine.health()
      return health.queue.depth === 0 && health.wal.configured && health.wal.parked === 1
    }, 'the delete parked')
    const cached = await engine.submit(item('p', 2), { redis: true, sql: false, ack: 'stored' })
    expect((await engine.get('p'))?.version).toBe(cached.version)
    expect((await engine.getMany(['p', 'p'])).map((found) => found?.version)).toEqual([
      cached.version,
      cached.version,
    ])
    expect(await engine.contains('p')).toBe(true)

    l3.down = false
    await until(async () => (await engine.health()).degraded.length === 0, 'the log drained')
    // L3 has the tombstone (the delete was acknowledged); L2's newer copy is still the answer.
    expect((await createSqliteStore({ path: paths.sync }).read(['p'])).get('p')?.tombstone).toBe(true)
    expect((await engine.get('p'))?.json()).toEqual({ n: 2 })
  })

  it('never lets an older logged copy overwrite a newer direct write when the log drains', async () => {
    const paths = files()
    const first = open(paths)
    await first.engine.start()
    first.l3.failWrites = Number.MAX_SAFE_INTEGER
    await first.engine.submit(item('race', 1))
    await first.wal.close()
    engines.splice(engines.indexOf(first.engine), 1)
    // Meanwhile another process stored a newer version straight into L3.
    const direct = createSqliteStore({ path: paths.sync })
    await direct.init()
    const newer = item('race', 2).withVersion(Number.MAX_SAFE_INTEGER - 1, Date.now())
    await direct.write([newer])
    await direct.close()

    const second = open(paths)
    await second.engine.start()
    expect((await second.engine.get('race'))?.json()).toEqual({ n: 2 })
    expect((await second.engine.get('race'))?.version).toBe(newer.version)
  })
})

describe('starting while L3 is unreachable', () => {
  it('starts degraded: writes are logged and readable, /ready names l3, and L3 is connected and drained when it returns', async () => {
    const { engine, l3 } = open(files(), { down: true })
    await engine.start()
    expect(engine.state).toBe('ready')
    const health = await engine.health()
    expect(health.degraded).toEqual(['l3'])
    expect(health.l3.ok).toBe(false)
    const receipt = await engine.submit(item('late', 1))
    expect(receipt.ack).toBe('logged')
    expect((await engine.get('late'))?.version).toBe(receipt.version)
    l3.down = false
    await until(async () => (await engine.health()).degraded.length === 0, 'L3 connected and the log drained')
    expect(await engine.status('late')).toMatchObject({ kind: 'synced', l3: true, version: receipt.version })
  })

  it('refuses to start with requireL3AtStart, with a typed backend error, and ends failed', async () => {
    const { engine } = open(files(), { down: true, requireL3AtStart: true })
    const error = await engine.start().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BackendError)
    expect(engine.state).toBe('failed')
    await expect(engine.submit(item('x', 1))).rejects.toBeInstanceOf(EngineStateError)
  })
})
