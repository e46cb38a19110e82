import { type HealthReport, type L2Store, SyncEngine } from '@sync-engine/core/internal'
import { openRedisStore } from '@sync-engine/redis-ioredis'
import { createMysqlStore } from '@sync-engine/sql-mysql2'
import { SqliteWriteAheadLog } from '@sync-engine/sql-sqlite'
import type { Connection } from 'mysql2/promise'
import { runAlternatingRounds } from '../alternating-rounds.ts'
import { collectGarbage } from '../fixtures.ts'
import {
  type BenchContext,
  formatPercent,
  type Measurement,
  type Role,
  type Scenario,
  skippedResult,
  verdict,
} from '../report.ts'
import type { MysqlService, RedisService } from '../services.ts'
import { median, nowMs, summarize } from '../stats.ts'
import {
  buildTieredFixture,
  RAW_ROWS_PER_STATEMENT,
  rawUpsertRun,
  type TieredFixture,
} from '../tiered-fixture.ts'
import { GatedL3, tiersOrSkip } from '../tiers.ts'

const N = 100_000
const ROUNDS = 3
/** Submits in flight at once while L3 is down (ack 'logged': one group commit per chunk). */
const CHUNK = 1_000
/** Raw baseline: rows per upsert statement, and per transaction (the engine drains 5,000 log entries a step). */
const ROWS_PER_STATEMENT = RAW_ROWS_PER_STATEMENT
const TXN_ROWS = 5_000
const TARGET = 0.7
const WAL_MAX_BYTES = 1024 * 1024 * 1024
/** Breakers that open on the first failure and probe again after 50 ms (default: 5 failures, 5 s). */
const BREAKERS = { l3: { failureThreshold: 1, openMs: 50, maxOpenMs: 50 } }
/** How often the timed loop asks `health()` whether the drain is over. */
const POLL_MS = 5
/** Give up waiting (parking or draining) after this long: the engine is stuck. */
const GIVE_UP_MS = 180_000

type Fixture = TieredFixture

interface RunResult {
  /** Engine: from L3 coming back until `health()` showed no degraded tier and nothing parked. Raw: the upserts. */
  readonly ms: number
  /** Per L3 write call of the drain (raw: per transaction). */
  readonly batchMs: readonly number[]
  /** From L3 coming back until the first L3 write of the drain started (the probe wait). */
  readonly waitMs?: number
  /** From the first drain write starting until the last one ended. */
  readonly writingMs?: number
  /** The outage phase: the 100,000 'logged' submits, until all were parked. */
  readonly parkMs?: number
  readonly l3Writes?: number
  readonly l3WriteRecords?: number
  readonly l3WriteMs?: number
  readonly refusedDuringOutage?: number
  /** Time the drain spent reading the log (`read`, `keys`, `readSeqs`) and removing from it. */
  readonly walReadMs?: number
  readonly walRemoveMs?: number
  /** Log entries the drain read in full (the rest it held in memory and read only the keys of). */
  readonly entriesRead?: number
  readonly healthPolls?: number
  readonly walEntriesAfter?: number
}

interface Variant {
  readonly label: string
  readonly role: Role
  readonly batchSampleOf: string
  run(ctx: BenchContext, redis: RedisService, mysql: MysqlService, fixture: Fixture): Promise<RunResult>
  readonly results: RunResult[]
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Every item is in the table, live, at exactly the version it was acknowledged with. */
async function verifyVersions(
  sql: Connection,
  table: string,
  fixture: Fixture,
  versions: readonly number[],
): Promise<void> {
  const [rows] = await sql.query(`SELECT id, version FROM \`${table}\` WHERE tombstone = 0`)
  const found = new Map<string, number>()
  for (const row of rows as { id: Buffer | string; version: number | string }[]) {
    found.set(String(row.id), Number(row.version))
  }
  if (found.size !== N) throw new Error(`wal-drain: ${found.size} rows in ${table}, expected ${N}`)
  let wrong = 0
  let first = ''
  fixture.items.forEach((item, i) => {
    if (found.get(item.id) !== versions[i]) {
      wrong++
      first ||= `${item.id}: ${found.get(item.id)} ≠ ${versions[i]}`
    }
  })
  if (wrong > 0) throw new Error(`wal-drain: ${wrong} rows with the wrong version (first ${first})`)
}

async function until(
  engine: SyncEngine,
  done: (health: HealthReport) => boolean,
  what: string,
): Promise<{ polls: number; health: HealthReport }> {
  const started = nowMs()
  for (let polls = 1; ; polls++) {
    const health = await engine.health()
    if (done(health)) return { polls, health }
    if (nowMs() - started > GIVE_UP_MS) {
      throw new Error(
        `wal-drain: gave up after ${GIVE_UP_MS} ms waiting for ${what}: degraded ${JSON.stringify(health.degraded)}, wal ${JSON.stringify(health.wal)}, queue ${JSON.stringify(health.queue)}, l3 breaker ${health.breakers.l3.state}`,
      )
    }
    await sleep(POLL_MS)
  }
}

/** Every L3 write call that reached the store: when it started and ended, and how many records. */
function recordWrites(l3: GatedL3): { start: number; end: number; records: number }[] {
  const writes: { start: number; end: number; records: number }[] = []
  const write = l3.write.bind(l3)
  l3.write = async (records, options) => {
    const start = nowMs()
    const result = await write(records, options)
    writes.push({ start, end: nowMs(), records: records.length })
    return result
  }
  return writes
}

/**
 * Which engine drains: the one that parked the writes, or a new process started on its log —
 * with its default memory budget (it reads the parked writes back while it waits for L3), or with
 * a 1-byte one (it holds none, and the drain reads every entry in full).
 */
type DrainMode = 'running' | 'restarted' | 'restarted-unheld'

/**
 * An engine with the log (and Redis if `withL2`) whose L3 is up at start (schema, clock), then
 * goes down: N 'logged' submits park in the log. `restarted*`: that engine is shut down with L3
 * still down and a new one starts on the same log (degraded). Then L3
 * comes back, and the timer runs until the engine reports nothing parked and no degraded tier.
 * Verified: every row at its acked version.
 */
async function engineRun(
  ctx: BenchContext,
  redis: RedisService,
  mysql: MysqlService,
  fixture: Fixture,
  withL2: boolean,
  mode: DrainMode = 'running',
): Promise<RunResult> {
  const label = `drain${withL2 ? 'l2' : ''}${mode === 'running' ? '' : mode === 'restarted' ? 'r' : 'u'}`
  const table = mysql.table(label)
  const prefix = withL2 ? redis.prefix(label) : undefined
  const walPath = ctx.tmp.file('drain-wal')
  const openL3 = () => new GatedL3(createMysqlStore({ url: mysql.url, table }))
  const openWal = () =>
    new SqliteWriteAheadLog({ path: walPath, maxBytes: WAL_MAX_BYTES, synchronous: 'full' })
  let l3 = openL3()
  let wal = openWal()
  let l2: L2Store | undefined
  const sql = await mysql.connection()
  let engine: SyncEngine | undefined
  try {
    if (prefix) l2 = await openRedisStore(redis.url, { prefix })
    engine = new SyncEngine({ ...(l2 ? { l2 } : {}), l3, wal, breakers: BREAKERS })
    await engine.start()
    let writes = recordWrites(l3)

    // The outage: L3 unreachable, N acknowledged 'logged' writes parked in the log.
    l3.down = true
    const versions = new Array<number>(N)
    const options = { ack: 'logged' as const }
    const p0 = nowMs()
    let index = 0
    for (const chunk of fixture.chunks) {
      const receipts = await Promise.all(chunk.map((item) => engine!.submit(item, options)))
      for (const receipt of receipts) versions[index++] = receipt.version
    }
    const parked = await until(
      engine,
      (h) => h.wal.configured && h.wal.parked === N && h.queue.depth === 0,
      `${N} writes parked`,
    )
    const parkMs = nowMs() - p0
    if (parked.health.wal.configured && parked.health.wal.entries !== N) {
      throw new Error(`wal-drain: the log holds ${parked.health.wal.entries} entries, expected ${N}`)
    }
    if (writes.length > 0) throw new Error('wal-drain: a write reached L3 during the outage')
    const refusedDuringOutage = l3.refused

    if (mode !== 'running') {
      // The process ends with L3 still down; a new one starts on its log, degraded.
      await engine.shutdown()
      l3 = openL3()
      l3.down = true
      wal = openWal()
      engine = new SyncEngine({
        ...(l2 ? { l2: await openRedisStore(redis.url, { prefix }) } : {}),
        l3,
        wal,
        breakers: BREAKERS,
        ...(mode === 'restarted-unheld' ? { config: { queueMaxBytes: 1 } } : {}),
      })
      writes = recordWrites(l3)
      await engine.start()
      await until(
        engine,
        (h) => h.wal.configured && h.wal.parked === N,
        `${N} writes parked after the restart`,
      )
    }
    // From here on: time in the log's reads and removes (the drain's other costs besides L3).
    const walTime = { read: 0, remove: 0, entriesRead: 0 }
    const timed =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>, into: 'read' | 'remove') =>
      async (...args: A): Promise<R> => {
        const start = nowMs()
        try {
          return await call(...args)
        } finally {
          walTime[into] += nowMs() - start
        }
      }
    const read = wal.read.bind(wal)
    wal.read = timed(async (afterSeq: number, limit: number) => {
      const entries = await read(afterSeq, limit)
      walTime.entriesRead += entries.length
      return entries
    }, 'read')
    const readSeqs = wal.readSeqs.bind(wal)
    wal.readSeqs = timed(async (seqs: readonly number[]) => {
      const entries = await readSeqs(seqs)
      walTime.entriesRead += entries.length
      return entries
    }, 'read')
    wal.keys = timed(wal.keys.bind(wal), 'read')
    wal.remove = timed(wal.remove.bind(wal), 'remove')
    wal.removeThrough = timed(wal.removeThrough.bind(wal), 'remove')

    // L3 is back: time until the engine says so (nothing parked, no degraded tier).
    collectGarbage()
    const t0 = nowMs()
    l3.down = false
    const drained = await until(
      engine,
      (h) => h.degraded.length === 0 && h.wal.configured && h.wal.parked === 0,
      'the log to drain',
    )
    const ms = nowMs() - t0
    const walEntriesAfter = drained.health.wal.configured ? drained.health.wal.entries : -1

    await verifyVersions(sql, table, fixture, versions)
    if (prefix) {
      const keys = await redis.countItemKeys(prefix)
      if (keys !== N) throw new Error(`wal-drain: ${keys} Redis keys, expected ${N}`)
    }
    const first = writes[0]
    const last = writes.at(-1)
    return {
      ms,
      batchMs: writes.map((w) => w.end - w.start),
      ...(first && last ? { waitMs: first.start - t0, writingMs: last.end - first.start } : {}),
      parkMs,
      l3Writes: writes.length,
      l3WriteRecords: writes.reduce((sum, w) => sum + w.records, 0),
      l3WriteMs: writes.reduce((sum, w) => sum + w.end - w.start, 0),
      refusedDuringOutage,
      walReadMs: walTime.read,
      walRemoveMs: walTime.remove,
      entriesRead: walTime.entriesRead,
      healthPolls: drained.polls,
      walEntriesAfter,
    }
  } finally {
    sql.destroy()
    await engine?.shutdown().catch(() => {})
    await Promise.allSettled([l2?.close(), l3.close()])
    ctx.tmp.removeDb(walPath)
    if (prefix) await redis.deletePrefix(prefix)
    await mysql.dropTable(table)
  }
}

/** The raw baseline: the same 100,000 rows, 500-row prepared upserts, 5,000 rows per transaction. */
function rawRun(mysql: MysqlService, fixture: Fixture): Promise<RunResult> {
  return rawUpsertRun(mysql, fixture, {
    table: 'drainraw',
    txnRows: TXN_ROWS,
    verify: (sql, table) => verifyVersions(sql, table, fixture, fixture.rawVersions),
  })
}

const variants: Variant[] = [
  {
    label: 'engine drain, L3 + log',
    role: 'subject',
    batchSampleOf: 'per L3 write of the drain (one step of up to 5,000 log entries)',
    results: [],
    run: (ctx, redis, mysql, fixture) => engineRun(ctx, redis, mysql, fixture, false),
  },
  {
    label: `raw mysql2 upsert, ${ROWS_PER_STATEMENT}-row statements, ${TXN_ROWS.toLocaleString('en-US')} rows/txn`,
    role: 'baseline',
    batchSampleOf: `per ${TXN_ROWS.toLocaleString('en-US')}-row transaction`,
    results: [],
    run: (_ctx, _redis, mysql, fixture) => rawRun(mysql, fixture),
  },
  {
    label: 'engine drain, Redis + L3 + log',
    role: 'info',
    batchSampleOf: 'per L3 write of the drain (one step of up to 5,000 log entries)',
    results: [],
    run: (ctx, redis, mysql, fixture) => engineRun(ctx, redis, mysql, fixture, true),
  },
  {
    label: 'engine drain after a restart, L3 + log (parked writes read back at start)',
    role: 'info',
    batchSampleOf: 'per L3 write of the drain (one step of up to 5,000 log entries)',
    results: [],
    run: (ctx, redis, mysql, fixture) => engineRun(ctx, redis, mysql, fixture, false, 'restarted'),
  },
  {
    label: 'engine drain after a restart, nothing held (1-byte budget): every entry read during the drain',
    role: 'info',
    batchSampleOf: 'per L3 write of the drain (one step of up to 5,000 log entries)',
    results: [],
    run: (ctx, redis, mysql, fixture) => engineRun(ctx, redis, mysql, fixture, false, 'restarted-unheld'),
  },
]

function toMeasurement(variant: Variant): Measurement {
  const runs = variant.results
  const med = (pick: (r: RunResult) => number | undefined) => median(runs.map((r) => pick(r) ?? 0))
  const details: string[] = []
  if (runs[0]?.parkMs !== undefined) {
    details.push(
      `median wait from L3's return to the first drain write ${med((r) => r.waitMs).toFixed(0)} ms (the maintenance probe), writing ${med((r) => r.writingMs).toFixed(0)} ms (first drain write started → last ended: ${Math.round(N / (med((r) => r.writingMs) / 1000)).toLocaleString('en-US')} items/s), of which inside L3 writes ${med((r) => r.l3WriteMs).toFixed(0)} ms (two in flight, so they overlap), waiting for the log's reads ${med((r) => r.walReadMs).toFixed(0)} ms (${med((r) => r.entriesRead).toLocaleString('en-US')} of the ${N.toLocaleString('en-US')} entries read in full; the others were held in memory and only their keys read) and its removal ${med((r) => r.walRemoveMs).toFixed(0)} ms`,
      `per run: ${med((r) => r.l3Writes)} L3 writes (${med((r) => r.l3WriteRecords).toLocaleString('en-US')} records), ${med((r) => r.healthPolls)} health() polls, ${med((r) => r.walEntriesAfter)} log entries left after the drain`,
      `outage phase (not timed in the figure): ${N.toLocaleString('en-US')} 'logged' submits until all were parked, median ${med((r) => r.parkMs).toFixed(0)} ms; L3 calls refused while down: ${med((r) => r.refusedDuringOutage)} (median)`,
    )
  }
  return {
    label: variant.label,
    role: variant.role,
    latency: {
      sampleOf:
        runs[0]?.parkMs !== undefined
          ? `per drain of ${N.toLocaleString('en-US')} parked writes, L3 back → nothing parked`
          : `per run of ${N.toLocaleString('en-US')} rows`,
      ns: summarize(runs.map((r) => r.ms * 1e6)),
    },
    batchLatency: {
      sampleOf: variant.batchSampleOf,
      ns: summarize(runs.flatMap((r) => r.batchMs).map((ms) => ms * 1e6)),
    },
    throughput: N / (med((r) => r.ms) / 1000),
    unit: 'items/s',
    ...(details.length > 0 ? { detail: details.join('; ') } : {}),
  }
}

export const walDrain: Scenario = {
  id: 'wal-drain',
  title: 'Write-ahead log drain after an L3 outage (MariaDB)',
  async run(ctx: BenchContext) {
    const services = tiersOrSkip(ctx)
    if (services.skip !== undefined) return skippedResult(this, services.skip)
    const { redis, mysql } = services
    const fixture = buildTieredFixture(N, CHUNK)
    await runAlternatingRounds(ctx, 'wal-drain', ROUNDS, variants, (variant) =>
      variant.run(ctx, redis, mysql, fixture),
    )
    const measurements = variants.map(toMeasurement)
    const [subject, baseline, withL2] = measurements as [Measurement, Measurement, Measurement]
    return {
      id: this.id,
      title: this.title,
      setup: [
        `${N.toLocaleString('en-US')} distinct JSON items of ~200 bytes (\`SyncItem.fromJson\`, built before timing); every run on a fresh MariaDB table (and Redis key prefix) and a fresh log file; ${ROUNDS} rounds with the variant order alternating; the table shows the median run, items/s = N ÷ median time.`,
        `The outage, built honestly: \`new SyncEngine({ l3: gated(createMysqlStore({ url, table })), wal: new SqliteWriteAheadLog({ path, maxBytes: 1 GiB, synchronous: 'full' }), breakers: { l3: { failureThreshold: 1, openMs: 50, maxOpenMs: 50 } } })\` starts with L3 up (schema, clock), then the gate (bench/tiers.ts \`GatedL3\`, the idea of test/support/flaky-l3.ts) makes every L3 call throw a \`BackendError\` without reaching MariaDB. ${N.toLocaleString('en-US')} submits with ack 'logged' (${CHUNK.toLocaleString('en-US')} in flight at a time) are acknowledged from the log, their flushes fail, the breaker opens and the engine parks them; the scenario waits until \`health()\` shows \`wal.parked\` = ${N.toLocaleString('en-US')} and queue depth 0.`,
        `Timed: from the moment the gate opens until \`health()\` (polled every ${POLL_MS} ms) reports no degraded tier and \`wal.parked\` = 0. Nothing is subtracted: the figure includes the wait for the engine's maintenance loop (every 20 ms while writes wait for L3) and the breaker's 50 ms open period; that wait and the drain's own writing time are in the details. Verified after: all ${N.toLocaleString('en-US')} rows in MariaDB, each at the version its submit was acknowledged with (and ${N.toLocaleString('en-US')} Redis keys in the Redis variant).`,
        `Raw baseline in the same run: the same ${N.toLocaleString('en-US')} rows through one mysql2 connection, prepared \`mysqlDialect.upsert(table, ${ROWS_PER_STATEMENT})\` (the engine's own \`INSERT … ON DUPLICATE KEY UPDATE\`), ${TXN_ROWS.toLocaleString('en-US')} rows per \`BEGIN\`…\`COMMIT\` (the engine drains ${TXN_ROWS.toLocaleString('en-US')} log entries per step). The subject drains into L3 only, the same work; informational: the same drain with Redis as L2 (each step also writes its ${TXN_ROWS.toLocaleString('en-US')} items to Redis), and the drain of a new engine started on the log after the first was shut down with L3 still down (degraded start), with its default memory budget and with a 1-byte one (\`queueMaxBytes: 1\`: it holds no write and reads every entry during the drain).`,
      ],
      measurements,
      verdicts: [verdict(subject, baseline, TARGET)],
      notes: [
        gapNote(variants),
        `With Redis as L2 the drain ran at ${formatPercent(withL2.throughput / baseline.throughput)} of the raw L3-only upsert (${formatPercent(withL2.throughput / subject.throughput)} of the L3-only drain).`,
      ],
    }
  },
}

/** This run's account of where a drain's time goes, against the raw transaction of the same size. */
function gapNote(all: readonly Variant[]): string {
  const [engine, raw, , restarted, unheld] = all as [Variant, Variant, Variant, Variant, Variant]
  const med = (variant: Variant, pick: (r: RunResult) => number | undefined) =>
    median(variant.results.map((r) => pick(r) ?? 0))
  const steps = med(engine, (r) => r.l3Writes) || 1
  const l3Write = median(engine.results.flatMap((r) => r.batchMs))
  const rawTxn = median(raw.results.flatMap((r) => r.batchMs))
  const ratio = (variant: Variant) => formatPercent(med(raw, (r) => r.ms) / med(variant, (r) => r.ms))
  return (
    `How the drain spends its time in this run (medians): ${steps} steps of up to ${TXN_ROWS.toLocaleString('en-US')} log entries, two L3 transactions in flight (rows in id order, so they cannot deadlock), the next page read while they run. ` +
    `One L3 write took ${l3Write.toFixed(1)} ms with two in flight, against ${rawTxn.toFixed(1)} ms for the raw ${TXN_ROWS.toLocaleString('en-US')}-row transaction alone (the store sends upserts of up to 2,048 rows, with no BEGIN round trip and, in a drain, no read-back of versions). ` +
    `The writes this engine parked are held in memory (within the queue's byte budget), so a page costs the log only its keys: ${med(engine, (r) => r.entriesRead).toLocaleString('en-US')} entries were read in full, and the drain waited ${med(engine, (r) => r.walReadMs).toFixed(0)} ms on the log's reads and ${med(engine, (r) => r.walRemoveMs).toFixed(0)} ms on its removal (one watermark commit; the rows are deleted afterwards, 2,000 per step). ` +
    `A new engine started on the log while L3 is down reads the parked writes back while it waits (within the same budget), so its drain also reads only keys: ${ratio(restarted)} of the raw upsert. With no memory to hold them, every entry is read in full during the drain (on the log's reader thread, ${med(unheld, (r) => r.walReadMs).toFixed(0)} ms of waiting): ${ratio(unheld)} of the raw upsert.`
  )
}
