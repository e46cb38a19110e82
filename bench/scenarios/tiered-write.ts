import { mysqlDialect, RedisKeyLayout, type SubmitOptions, type SyncEngine } from '@sync-engine/core/internal'
import type { Redis } from 'ioredis'
import { runAlternatingRounds } from '../alternating-rounds.ts'
import { collectGarbage } from '../fixtures.ts'
import {
  type BenchContext,
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

const N = 20_000
const ROUNDS = 9
/** Rows per transaction and SETs per pipeline of the raw baseline; submits in flight for ack 'stored'. */
const BATCH = 1_000
/** Rows per upsert statement of the raw baseline: two statements per transaction. */
const ROWS_PER_STATEMENT = RAW_ROWS_PER_STATEMENT
const TARGET = 0.8
/** Where the time went when last examined (2026-12-04, this machine), and what is left. */
const PROFILE =
  'Where the time goes (examined 2026-11-27 and 2026-12-04 on this machine; absolute times vary with load, compare the ratios): ' +
  'L2 — guarded writes go as one script call per up to 256 keys where Redis is one server (a call per key on a cluster), and `encodeEnvelope` takes ~1.6 µs an item (small envelopes carved from shared slabs, state and mime UTF-8 cached; it was ~5.4 µs). The engine’s time in L2 writes is ~240–270 ms per 20,000 entries against the raw SET pipeline’s ~170–260 ms: Redis runs ~4 µs of Lua per key for the version guard. ' +
  'L3 — MySQL’s affected-row count cannot tell a row the version guard skipped, so the store used to read every version back in the same transaction (~25 ms per 1,000-item batch against ~17 ms raw). Since 2026-12-04 mysql2 counts the rows left as they were from the server’s `Records: r  Duplicates: d` summary, and the read-back runs only when one was (68 → 71–72 % of raw for both acks). ' +
  'Ack queued — since 2026-12-04 the L2 part of batch n overlaps the L3 part of batch n + 1 (L3-before-L2 still holds per batch, L2 parts stay in batch order), which the raw baseline, sequential, does not: 71 % → 81–109 % of raw in three runs. ' +
  'Ack stored — 1,000 submits in flight wait for their one batch, L3 then L2, before the next 1,000 start: nothing to overlap, so the per-batch cost is the sum (L3 ~1.2–1.3×, L2 ~1.4× raw) and the ratio stays at 72–77 %. Levers left: a cheaper L2 guard (one script call per batch already; the Lua per key is the cost), and the L3 statement count (a 1,000-row batch goes as 512 + 256 + 128 + 64 + 32 + 8 rows, six round trips against raw’s two).'
const QUEUED: SubmitOptions = { ack: 'queued' }
const STORED: SubmitOptions = { ack: 'stored' }

type Fixture = TieredFixture

interface RunResult {
  readonly ms: number
  readonly batchMs?: readonly number[]
  readonly submitMs?: number
  readonly flushMs?: number
  readonly sqlMs?: number
  readonly redisMs?: number
  readonly counts?: TierCounts
}

interface Variant {
  readonly label: string
  readonly role: Role
  readonly batchSampleOf?: string
  run(redis: RedisService, mysql: MysqlService, fixture: Fixture): Promise<RunResult>
  readonly results: RunResult[]
}

/** A fresh engine (Redis + MariaDB, default thresholds, its own prefix and table); only `timed` is timed. */
async function engineRun(
  redis: RedisService,
  mysql: MysqlService,
  fixture: Fixture,
  label: string,
  timed: (engine: SyncEngine) => Promise<RunResult>,
): Promise<RunResult> {
  const tiers = await openTieredEngine(redis, mysql, label)
  const sql = await mysql.connection()
  try {
    collectGarbage()
    const result = await timed(tiers.engine)
    const report = await tiers.engine.flush()
    if (report.pending !== 0) throw new Error(`tiered-write: ${report.pending} writes still queued`)
    await verifyTieredRun('tiered-write', redis, sql, tiers.table, tiers.prefix, fixture)
    return { ...result, counts: { ...tiers.counts } }
  } finally {
    sql.destroy()
    await tiers.close()
  }
}

/**
 * The raw baseline: per 1,000 items, one MariaDB transaction of two 500-row upserts (the engine's
 * dialect SQL, prepared) and one ioredis pipeline of 1,000 SETs of the same envelope bytes.
 * `overlap` sends the pipeline while the transaction runs instead of after it.
 */
async function rawRun(
  redis: RedisService,
  mysql: MysqlService,
  fixture: Fixture,
  overlap: boolean,
): Promise<RunResult> {
  const table = mysql.table('rawwrite')
  const prefix = redis.prefix('rawwrite')
  const keys = new RedisKeyLayout(prefix)
  const itemKeys = fixture.items.map((item) => keys.itemKey(item.id))
  const sql = await mysql.connection()
  const client: Redis = await redis.client()
  try {
    for (const statement of mysqlDialect.createSchema(table)) await sql.query(statement.sql)
    const upsert = mysqlDialect.upsert(table, ROWS_PER_STATEMENT)
    const perTxn = BATCH / ROWS_PER_STATEMENT
    let sqlMs = 0
    let redisMs = 0
    const writeSql = async (batch: number) => {
      const t0 = nowMs()
      await sql.query('BEGIN')
      for (let s = batch * perTxn; s < (batch + 1) * perTxn; s++) {
        await sql.execute(upsert, fixture.statementParams[s]!)
      }
      await sql.query('COMMIT')
      sqlMs += nowMs() - t0
    }
    const writeRedis = async (batch: number) => {
      const t0 = nowMs()
      const pipeline = client.pipeline()
      for (let i = batch * BATCH; i < (batch + 1) * BATCH; i++)
        pipeline.set(itemKeys[i]!, fixture.envelopes[i]!)
      const replies = await pipeline.exec()
      if (replies?.some(([error]) => error !== null)) throw new Error('tiered-write: a raw SET failed')
      redisMs += nowMs() - t0
    }
    collectGarbage()
    const batchMs: number[] = []
    const t0 = nowMs()
    for (let batch = 0; batch < N / BATCH; batch++) {
      const b0 = nowMs()
      if (overlap) await Promise.all([writeSql(batch), writeRedis(batch)])
      else {
        await writeSql(batch)
        await writeRedis(batch)
      }
      batchMs.push(nowMs() - b0)
    }
    const ms = nowMs() - t0
    await verifyTieredRun('tiered-write', redis, sql, table, prefix, fixture)
    return { ms, batchMs, sqlMs, redisMs }
  } finally {
    client.disconnect()
    sql.destroy()
    await mysql.dropTable(table)
    await redis.deletePrefix(prefix)
  }
}

const variants: Variant[] = [
  {
    label: "engine, ack 'queued', then flush()",
    role: 'subject',
    results: [],
    run: (redis, mysql, fixture) =>
      engineRun(redis, mysql, fixture, 'wqueued', async (engine) => {
        const t0 = nowMs()
        for (const item of fixture.items) await engine.submit(item, QUEUED)
        const t1 = nowMs()
        await engine.flush()
        const t2 = nowMs()
        return { ms: t2 - t0, submitMs: t1 - t0, flushMs: t2 - t1 }
      }),
  },
  {
    label: `engine, ack 'stored', ${BATCH.toLocaleString('en-US')} concurrent submits at a time`,
    role: 'subject',
    batchSampleOf: `per chunk of ${BATCH.toLocaleString('en-US')} concurrent submits, until all acked`,
    results: [],
    run: (redis, mysql, fixture) =>
      engineRun(redis, mysql, fixture, 'wstored', async (engine) => {
        const batchMs: number[] = []
        const t0 = nowMs()
        for (const chunk of fixture.chunks) {
          const b0 = nowMs()
          await Promise.all(chunk.map((item) => engine.submit(item, STORED)))
          batchMs.push(nowMs() - b0)
        }
        return { ms: nowMs() - t0, batchMs }
      }),
  },
  {
    label: `raw mysql2 txn (${BATCH / ROWS_PER_STATEMENT}×${ROWS_PER_STATEMENT}-row upserts), then ioredis pipeline (${BATCH.toLocaleString('en-US')} SETs)`,
    role: 'baseline',
    batchSampleOf: `per ${BATCH.toLocaleString('en-US')} items (transaction + pipeline)`,
    results: [],
    run: (redis, mysql, fixture) => rawRun(redis, mysql, fixture, false),
  },
  {
    label: 'raw, pipeline sent while the txn runs',
    role: 'info',
    results: [],
    run: (redis, mysql, fixture) => rawRun(redis, mysql, fixture, true),
  },
]

function toMeasurement(variant: Variant): Measurement {
  const runs = variant.results
  const batches = runs.flatMap((r) => r.batchMs ?? [])
  const details: string[] = []
  const med = (pick: (r: RunResult) => number | undefined) => median(runs.map((r) => pick(r) ?? 0)).toFixed(0)
  if (runs[0]?.submitMs !== undefined) {
    details.push(`median submit loop ${med((r) => r.submitMs)} ms + flush ${med((r) => r.flushMs)} ms`)
  }
  if (runs[0]?.sqlMs !== undefined) {
    details.push(`median time in MariaDB ${med((r) => r.sqlMs)} ms, in Redis ${med((r) => r.redisMs)} ms`)
  }
  const counts = runs[0]?.counts
  if (counts) {
    details.push(
      `per run: ${counts.l3Writes} L3 writes (${counts.l3WriteRecords.toLocaleString('en-US')} records), ${counts.l2Writes} L2 writes (${counts.l2WriteEntries.toLocaleString('en-US')} entries); median time in L3 writes ${med((r) => r.counts?.l3WriteMs)} ms, in L2 writes ${med((r) => r.counts?.l2WriteMs)} ms`,
    )
  }
  return {
    label: variant.label,
    role: variant.role,
    latency: {
      sampleOf: `per run of ${N.toLocaleString('en-US')} items`,
      ns: summarize(runs.map((r) => r.ms * 1e6)),
    },
    ...(batches.length > 0 && variant.batchSampleOf
      ? { batchLatency: { sampleOf: variant.batchSampleOf, ns: summarize(batches.map((ms) => ms * 1e6)) } }
      : {}),
    throughput: N / (median(runs.map((r) => r.ms)) / 1000),
    unit: 'items/s',
    ...(details.length > 0 ? { detail: details.join('; ') } : {}),
  }
}

export const tieredWrite: Scenario = {
  id: 'tiered-write',
  title: 'Write throughput into Redis + MariaDB',
  async run(ctx: BenchContext) {
    const services = tiersOrSkip(ctx)
    if (services.skip !== undefined) return skippedResult(this, services.skip)
    const { redis, mysql } = services
    const fixture = buildTieredFixture(N, BATCH)
    await runAlternatingRounds(ctx, 'tiered-write', ROUNDS, variants, (variant) =>
      variant.run(redis, mysql, fixture),
    )
    const measurements = variants.map(toMeasurement)
    const baseline = measurements[2]!
    return {
      id: this.id,
      title: this.title,
      setup: [
        `${N.toLocaleString('en-US')} distinct JSON items of ~200 bytes (\`SyncItem.fromJson\`, built before timing); every run on a fresh MariaDB table and a fresh Redis key prefix (created before timing, verified after it: row count, key count, the last row's JSON text), ${ROUNDS} rounds with the variant order alternating; the table shows the median run, items/s = N ÷ median run time.`,
        `Engine: \`new SyncEngine({ l2: openRedisStore(url, { prefix }), l3: createMysqlStore({ url, table }) })\`, default config (batchFlushCount 1,000, batchFlushBytes 1 MiB, batchFlushMs 100). Ack 'queued': \`await engine.submit(item, { ack: 'queued' })\` for every item, then \`await engine.flush()\`, timed from the first submit until flush resolves. Ack 'stored': ${BATCH.toLocaleString('en-US')} submits in flight, then the next ${BATCH.toLocaleString('en-US')}.`,
        `Raw baseline, per ${BATCH.toLocaleString('en-US')} items: one mysql2 transaction (one connection, \`BEGIN\`, two prepared \`execute\`s of \`mysqlDialect.upsert(table, ${ROWS_PER_STATEMENT})\` — the engine's own \`INSERT … ON DUPLICATE KEY UPDATE\` — binding the same column values, \`COMMIT\`), then one ioredis pipeline of ${BATCH.toLocaleString('en-US')} \`SET key envelope\` with the bytes the engine stores. L3 first, then L2, as the engine orders them; the JSON text and envelopes are built before timing.`,
      ],
      measurements,
      verdicts: [
        verdict(measurements[0]!, baseline, TARGET, "ack 'queued'"),
        verdict(measurements[1]!, baseline, TARGET, "ack 'stored'"),
      ],
      notes: [gapNote(variants), PROFILE],
    }
  },
}

/** This run's split of the gap: the engine's time in L3 and L2 writes against the raw baseline's. */
function gapNote(all: readonly Variant[]): string {
  const med = (variant: Variant, pick: (r: RunResult) => number | undefined) =>
    median(variant.results.map((r) => pick(r) ?? 0))
  const [queued, , raw] = all as [Variant, Variant, Variant]
  const perBatch = (ms: number) => (ms / (N / BATCH)).toFixed(1)
  return `Per ${BATCH.toLocaleString('en-US')}-item batch in this run (medians, ack 'queued'): engine L3 write ${perBatch(med(queued, (r) => r.counts?.l3WriteMs))} ms vs raw MariaDB transaction ${perBatch(med(raw, (r) => r.sqlMs))} ms; engine L2 write ${perBatch(med(queued, (r) => r.counts?.l2WriteMs))} ms vs raw SET pipeline ${perBatch(med(raw, (r) => r.redisMs))} ms; the submit loop ${perBatch(med(queued, (r) => r.submitMs))} ms. Per batch the engine writes L3, then L2, as the raw baseline does; the L2 part of one batch overlaps the L3 part of the next, which the raw baseline does not.`
}
