import { type AckLevel, mysqlDialect, RedisKeyLayout } from '@sync-engine/core/internal'
import { SqliteWriteAheadLog } from '@sync-engine/sql-sqlite'
import type { Redis } from 'ioredis'
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
  type TieredFixture,
  verifyTieredRun,
} from '../tiered-fixture.ts'
import { openTieredEngine, type TierCounts, tiersOrSkip } from '../tiers.ts'

const N = 50_000
const ROUNDS = 5
/** Submits in flight at once (the next chunk starts when all of this one are acknowledged). */
const CHUNK = 1_000
/** Raw baseline: rows per transaction and SETs per pipeline. */
const BATCH = 1_000
/** Raw baseline: rows per upsert statement (two statements per transaction, as in tiered-write). */
const ROWS_PER_STATEMENT = RAW_ROWS_PER_STATEMENT
/** `logged` must keep at least this share of `queued`'s throughput. */
const TARGET = 0.5
const WAL_MAX_BYTES = 1024 * 1024 * 1024

type Fixture = TieredFixture

interface RunResult {
  /** First submit until every item is in MariaDB and Redis (flush resolved; raw: last pipeline). */
  readonly ms: number
  /** First submit until the last one was acknowledged at its level. */
  readonly ackMs?: number
  /** Per chunk of concurrent submits, until all of them are acknowledged (raw: per transaction + pipeline). */
  readonly batchMs: readonly number[]
  readonly counts?: TierCounts
  /** The log's group commits, and its entries when the flush resolved. */
  readonly walCommits?: number
  readonly walEntriesAtFlush?: number
}

interface Variant {
  readonly label: string
  readonly role: Role
  readonly batchSampleOf: string
  run(ctx: BenchContext, redis: RedisService, mysql: MysqlService, fixture: Fixture): Promise<RunResult>
  readonly results: RunResult[]
}

/**
 * A fresh engine (Redis + MariaDB, default thresholds, its own prefix and table; for `logged` a
 * fresh log file), chunks of `CHUNK` concurrent submits at `ack`, then `flush()`. Engine and log
 * are opened before the timer starts; the run is verified after it stops.
 */
async function engineRun(
  ctx: BenchContext,
  redis: RedisService,
  mysql: MysqlService,
  fixture: Fixture,
  ack: AckLevel,
): Promise<RunResult> {
  const walPath = ack === 'logged' ? ctx.tmp.file('ack-wal') : undefined
  const wal = walPath
    ? new SqliteWriteAheadLog({ path: walPath, maxBytes: WAL_MAX_BYTES, synchronous: 'full' })
    : undefined
  const tiers = await openTieredEngine(redis, mysql, `ack${ack}`, {}, wal ? { wal } : {})
  const sql = await mysql.connection()
  const { engine } = tiers
  try {
    const options = { ack }
    collectGarbage()
    const batchMs: number[] = []
    const t0 = nowMs()
    for (const chunk of fixture.chunks) {
      const b0 = nowMs()
      await Promise.all(chunk.map((item) => engine.submit(item, options)))
      batchMs.push(nowMs() - b0)
    }
    const t1 = nowMs()
    const report = await engine.flush()
    const t2 = nowMs()
    if (report.pending !== 0) throw new Error(`ack-levels: ${report.pending} writes still queued`)
    const health = await engine.health()
    const walEntriesAtFlush = health.wal.configured ? health.wal.entries : undefined
    await verifyTieredRun('ack-levels', redis, sql, tiers.table, tiers.prefix, fixture)
    return {
      ms: t2 - t0,
      ackMs: t1 - t0,
      batchMs,
      counts: { ...tiers.counts },
      ...(wal ? { walCommits: wal.commits, walEntriesAtFlush } : {}),
    }
  } finally {
    sql.destroy()
    await tiers.close()
    if (walPath) ctx.tmp.removeDb(walPath)
  }
}

/**
 * The raw baseline of tiered-write, on this scenario's items: per 1,000 items, one mysql2
 * transaction of two 500-row upserts (the engine's dialect SQL, prepared), then one ioredis
 * pipeline of 1,000 SETs of the same envelope bytes.
 */
async function rawRun(redis: RedisService, mysql: MysqlService, fixture: Fixture): Promise<RunResult> {
  const table = mysql.table('ackraw')
  const prefix = redis.prefix('ackraw')
  const keys = new RedisKeyLayout(prefix)
  const itemKeys = fixture.items.map((item) => keys.itemKey(item.id))
  const sql = await mysql.connection()
  const client: Redis = await redis.client()
  try {
    for (const statement of mysqlDialect.createSchema(table)) await sql.query(statement.sql)
    const upsert = mysqlDialect.upsert(table, ROWS_PER_STATEMENT)
    const perTxn = BATCH / ROWS_PER_STATEMENT
    collectGarbage()
    const batchMs: number[] = []
    const t0 = nowMs()
    for (let batch = 0; batch < N / BATCH; batch++) {
      const b0 = nowMs()
      await sql.query('BEGIN')
      for (let s = batch * perTxn; s < (batch + 1) * perTxn; s++) {
        await sql.execute(upsert, fixture.statementParams[s]!)
      }
      await sql.query('COMMIT')
      const pipeline = client.pipeline()
      for (let i = batch * BATCH; i < (batch + 1) * BATCH; i++)
        pipeline.set(itemKeys[i]!, fixture.envelopes[i]!)
      const replies = await pipeline.exec()
      if (replies?.some(([error]) => error !== null)) throw new Error('ack-levels: a raw SET failed')
      batchMs.push(nowMs() - b0)
    }
    const ms = nowMs() - t0
    await verifyTieredRun('ack-levels', redis, sql, table, prefix, fixture)
    return { ms, batchMs }
  } finally {
    client.disconnect()
    sql.destroy()
    await mysql.dropTable(table)
    await redis.deletePrefix(prefix)
  }
}

const perChunk = `per chunk of ${CHUNK.toLocaleString('en-US')} concurrent submits, until all acked`
const variants: Variant[] = [
  {
    label: "engine, ack 'queued'",
    role: 'subject',
    batchSampleOf: perChunk,
    results: [],
    run: (ctx, redis, mysql, fixture) => engineRun(ctx, redis, mysql, fixture, 'queued'),
  },
  {
    label: "engine, ack 'logged' (SQLite log, synchronous=FULL)",
    role: 'subject',
    batchSampleOf: perChunk,
    results: [],
    run: (ctx, redis, mysql, fixture) => engineRun(ctx, redis, mysql, fixture, 'logged'),
  },
  {
    label: "engine, ack 'stored'",
    role: 'subject',
    batchSampleOf: perChunk,
    results: [],
    run: (ctx, redis, mysql, fixture) => engineRun(ctx, redis, mysql, fixture, 'stored'),
  },
  {
    label: `raw mysql2 txn (${BATCH / ROWS_PER_STATEMENT}×${ROWS_PER_STATEMENT}-row upserts), then ioredis pipeline (${BATCH.toLocaleString('en-US')} SETs)`,
    role: 'baseline',
    batchSampleOf: `per ${BATCH.toLocaleString('en-US')} items (transaction + pipeline)`,
    results: [],
    run: (_ctx, redis, mysql, fixture) => rawRun(redis, mysql, fixture),
  },
]

function toMeasurement(variant: Variant): Measurement {
  const runs = variant.results
  const med = (pick: (r: RunResult) => number | undefined) => median(runs.map((r) => pick(r) ?? 0))
  const details: string[] = []
  if (runs[0]?.ackMs !== undefined) {
    const ackMs = med((r) => r.ackMs)
    details.push(
      `median ${ackMs.toFixed(0)} ms until the last submit was acknowledged (${Math.round(N / (ackMs / 1000)).toLocaleString('en-US')} acks/s), then flush ${med((r) => r.ms - (r.ackMs ?? 0)).toFixed(0)} ms`,
    )
  }
  const counts = runs[0]?.counts
  if (counts) {
    details.push(
      `per run: ${counts.l3Writes} L3 writes (${counts.l3WriteRecords.toLocaleString('en-US')} records), ${counts.l2Writes} L2 writes; median time in L3 writes ${med((r) => r.counts?.l3WriteMs).toFixed(0)} ms, in L2 writes ${med((r) => r.counts?.l2WriteMs).toFixed(0)} ms`,
    )
  }
  if (runs[0]?.walCommits !== undefined) {
    details.push(
      `log: ${med((r) => r.walCommits)} group commits per run (median), ${med((r) => r.walEntriesAtFlush)} entries left in it when flush resolved (removed in batches of 10,000 or by the maintenance timer)`,
    )
  }
  return {
    label: variant.label,
    role: variant.role,
    latency: {
      sampleOf: `per run of ${N.toLocaleString('en-US')} items, until stored in both tiers`,
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

export const ackLevels: Scenario = {
  id: 'ack-levels',
  title: 'Write throughput per ack level (Redis + MariaDB)',
  async run(ctx: BenchContext) {
    const services = tiersOrSkip(ctx)
    if (services.skip !== undefined) return skippedResult(this, services.skip)
    const { redis, mysql } = services
    const fixture = buildTieredFixture(N, CHUNK)
    await runAlternatingRounds(ctx, 'ack-levels', ROUNDS, variants, (variant) =>
      variant.run(ctx, redis, mysql, fixture),
    )
    const measurements = variants.map(toMeasurement)
    const [queued, logged, stored, raw] = measurements as [Measurement, Measurement, Measurement, Measurement]
    const ofRaw = (m: Measurement) => formatPercent(m.throughput / raw.throughput)
    return {
      id: this.id,
      title: this.title,
      setup: [
        `${N.toLocaleString('en-US')} distinct JSON items of ~200 bytes (\`SyncItem.fromJson\`, built before timing); every run on a fresh MariaDB table and Redis key prefix (and, for 'logged', a fresh log file), opened before timing and verified after it (row count, key count, the last row's JSON text); ${ROUNDS} rounds with the variant order alternating; the table shows the median run, items/s = N ÷ median run time.`,
        `Engine: \`new SyncEngine({ l2: openRedisStore(url, { prefix }), l3: createMysqlStore({ url, table }) })\`, default config (batchFlushCount 1,000, batchFlushBytes 1 MiB, batchFlushMs 100); for 'logged' also \`wal: new SqliteWriteAheadLog({ path, maxBytes: 1 GiB, synchronous: 'full' })\` (an fsync per commit). Each variant submits ${CHUNK.toLocaleString('en-US')} items at once (\`Promise.all\` of \`engine.submit(item, { ack })\`), waits until all ${CHUNK.toLocaleString('en-US')} are acknowledged, then sends the next ${CHUNK.toLocaleString('en-US')}; after the last chunk, \`await engine.flush()\`. Timed from the first submit until the flush resolves: every item is then in MariaDB and Redis, whatever its ack level, so the three rows compare the same work (the time until the last ack is in the details).`,
        `Why concurrent submits: the log's group commit (one SQLite transaction and one fsync for every append of the same tick) only helps writers that are in flight together. One awaited 'logged' submit at a time would pay a whole fsync per item; that is not what this scenario measures.`,
        `Raw baseline (context, as in the tiered-write scenario): per ${BATCH.toLocaleString('en-US')} items one mysql2 transaction of two prepared \`mysqlDialect.upsert(table, ${ROWS_PER_STATEMENT})\` (the engine's own \`INSERT … ON DUPLICATE KEY UPDATE\`) binding the same column values, then one ioredis pipeline of ${BATCH.toLocaleString('en-US')} \`SET key envelope\` with the bytes the engine stores; sequential, no log.`,
      ],
      measurements,
      verdicts: [verdict(logged, queued, TARGET, "ack 'logged' vs 'queued'")],
      notes: [
        `Against the raw baseline (context, no target here): 'queued' ${ofRaw(queued)}, 'logged' ${ofRaw(logged)}, 'stored' ${ofRaw(stored)} of raw's throughput. 'logged' ÷ 'stored': ${formatPercent(logged.throughput / stored.throughput)}.`,
        splitNote(variants),
      ],
    }
  },
}

/** This run's time per tier write of each engine variant: where 'logged' pays for its log. */
function splitNote(all: readonly Variant[]): string {
  const per = (variant: Variant, tier: 'l3' | 'l2') =>
    median(
      variant.results.map((r) => {
        const c = r.counts
        if (!c) return 0
        return tier === 'l3' ? c.l3WriteMs / (c.l3Writes || 1) : c.l2WriteMs / (c.l2Writes || 1)
      }),
    ).toFixed(1)
  const [queued, logged, stored] = all as [Variant, Variant, Variant]
  return (
    `Mean time per 1,000-record tier write in this run (median over runs): L3 ${per(queued, 'l3')} ms ('queued'), ${per(logged, 'l3')} ms ('logged'), ${per(stored, 'l3')} ms ('stored'); L2 ${per(queued, 'l2')}, ${per(logged, 'l2')} and ${per(stored, 'l2')} ms. ` +
    "With 'logged' the same process also commits the log (one fsync'd SQLite transaction per chunk, and a removal of 10,000 settled entries at a time) on the thread that drives the tier writes, while MariaDB fsyncs its own commits on the same disk. " +
    "'queued' acknowledges the whole burst before any flush runs, then writes its 50 batches one after another with all 50,000 writes held in memory; 'stored' flushes each chunk as it fills."
  )
}
