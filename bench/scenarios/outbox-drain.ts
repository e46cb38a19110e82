import {
  connectedWriter,
  DRAIN_BATCH,
  flushOutbox,
  type PendingWrite,
  RedisOutbox,
  type RedisStore,
} from '@sync-engine/core/internal'
import { openRedisStore } from '@sync-engine/redis-ioredis'
import { createMysqlStore } from '@sync-engine/sql-mysql2'
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
import { tiersOrSkip } from '../tiers.ts'

/** The fixture size of wal-drain; `BENCH_OUTBOX_N` makes a smoke run small. */
const N = outboxSize(process.env.BENCH_OUTBOX_N)
const ROUNDS = 5
/** Writes per `outbox.put` while filling (as many ids as an API batch might carry). */
const FILL_CHUNK = 500
const SHARDS = 16
const OUTBOX_MAX_BYTES = 1 << 30
/** Raw baseline: rows per statement, and per transaction (a drain page of the flusher). */
const ROWS_PER_STATEMENT = RAW_ROWS_PER_STATEMENT
const TXN_ROWS = DRAIN_BATCH
const TARGET = 0.7
/** More than any run needs: the flusher must never stop for want of time here. */
const REMAINING_MS = 600_000
/** Where the time went when first examined (CPU profiles of a smoke run, this machine). */
const PROFILE =
  "Where the time goes (examined 2026-12-03 on this machine). First profile (20,000 items, one page a shard): idle 53 %, the L3 writes slowed by reading every version back (MariaDB's upsert counts do not say which rows changed; the flusher must know which entries were superseded) and by small pages, and `removeThrough` re-reading each entry in Lua to keep an index by id (~16 µs an entry): 23–37 % of raw. Since then the outbox keeps no index by id (removal by range is one XRANGE + one XDEL per 2,000 entries; the contract's by-id operations scan), and a flusher drains 4 shards at once: 41–49 % at 100,000 items in five runs, whether 1, 2 or 4 shards at once and with or without the version read-back (within the noise). An inspector profile of `flushOutbox` over 100,000 entries (4.3 s): GC 29 %, idle 19 %, then `walEntryOf` 3.6 %, ioredis reply conversion 3.5 %, socket writes 3.3 %, envelope decoding and copies ~4 %, mysql2 packet encoding ~4 %: the drain allocates every entry several times (12 reply buffers per stream entry, the envelope's content copy, the write, the SQL parameters) on top of the raw baseline's work. Then each stream entry got one packed metadata text instead of six fields (4 reply buffers an entry, one decode): the drain went from ~26,000 to ~45,000–48,000 items/s (0.52–0.58× in two runs, the raw upsert also faster on a quieter machine); GC still 26 %, idle 20 %. Next levers: decoding content straight into the SQL parameters (no SyncItem, no content copy), and pages of several shards in one L3 write."

function outboxSize(text: string | undefined): number {
  if (text === undefined || text === '') return 100_000
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new Error(`BENCH_OUTBOX_N must be a positive integer: ${text}`)
  return n
}

interface RunResult {
  /** Engine: the `flushOutbox` call. Raw: the upserts. */
  readonly ms: number
  /** Per L3 write of the drain (one page), raw: per transaction. */
  readonly batchMs: readonly number[]
  /** Filling the outbox (not timed in the figure). */
  readonly fillMs?: number
  /** Time inside the shards' reads (XRANGE and decoding), removals, and the leases. */
  readonly readMs?: number
  readonly removeMs?: number
  readonly leaseMs?: number
  /** The L3 writes' wall time from the first start to the last end, and their sum (they overlap). */
  readonly writingMs?: number
  readonly l3WriteMs?: number
}

interface Variant {
  readonly label: string
  readonly role: Role
  readonly batchSampleOf: string
  run(redis: RedisService, mysql: MysqlService, fixture: Fixture): Promise<RunResult>
  readonly results: RunResult[]
}

interface Fixture extends TieredFixture {
  /** The outbox's writes, at the raw baseline's versions: both sides store the same rows. */
  readonly writes: readonly PendingWrite[]
}

/**
 * The fixture's items as the log holds writes (the shape of wal-writes.ts `put()`, which cannot be
 * imported outside Vitest). The fixture versioned every row with one `updatedAt`: version 0's.
 */
function buildFixture(): Fixture {
  const fixture = buildTieredFixture(N, FILL_CHUNK)
  const updatedAt = Math.floor(fixture.rawVersions[0]! / 1000)
  const writes = fixture.items.map((item, i): PendingWrite => {
    const version = fixture.rawVersions[i]!
    return {
      id: item.id,
      version,
      updatedAt,
      item: item.withVersion(version, updatedAt),
      route: { l2: true, l3: true, ttlMs: undefined },
      expiresAt: 0,
      callerVersioned: false,
    }
  })
  return { ...fixture, writes }
}

/** Every item is in the table, live, at the version the baseline binds (the fill's receipts were checked equal). */
async function verifyVersions(sql: Connection, table: string, fixture: Fixture): Promise<void> {
  const [rows] = await sql.query(`SELECT id, version FROM \`${table}\` WHERE tombstone = 0`)
  const found = new Map<string, number>()
  for (const row of rows as { id: Buffer | string; version: number | string }[]) {
    found.set(String(row.id), Number(row.version))
  }
  if (found.size !== N) throw new Error(`outbox-drain: ${found.size} rows in ${table}, expected ${N}`)
  let wrong = 0
  let first = ''
  fixture.items.forEach((item, i) => {
    if (found.get(item.id) !== fixture.rawVersions[i]) {
      wrong++
      first ||= `${item.id}: ${found.get(item.id)} ≠ ${fixture.rawVersions[i]}`
    }
  })
  if (wrong > 0) throw new Error(`outbox-drain: ${wrong} rows with the wrong version (first ${first})`)
}

/** `call` with its time added to `into[key]`, for the parts of a drain that are not L3 writes. */
function timed<A extends unknown[], R, K extends string>(
  call: (...args: A) => Promise<R>,
  into: Record<K, number>,
  key: K,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    const start = nowMs()
    try {
      return await call(...args)
    } finally {
      into[key] += nowMs() - start
    }
  }
}

/**
 * A fresh prefix and table: the outbox filled with N writes (item in L2 + entry, one script per
 * shard and `put`), then `flushOutbox` drains it into MariaDB through a writer connected before
 * timing. Verified: the report, and every row at its version.
 */
async function engineRun(redis: RedisService, mysql: MysqlService, fixture: Fixture): Promise<RunResult> {
  const prefix = redis.prefix('outbox')
  const table = mysql.table('outbox')
  const l3 = createMysqlStore({ url: mysql.url, table })
  const sql = await mysql.connection()
  let store: RedisStore | undefined
  let outbox: RedisOutbox | undefined
  try {
    await l3.init()
    store = await openRedisStore(redis.url, { prefix, shards: SHARDS })
    outbox = new RedisOutbox(store, { maxBytes: OUTBOX_MAX_BYTES })
    await outbox.open()
    await outbox.bind(l3.identity)

    const f0 = nowMs()
    for (let at = 0; at < N; at += FILL_CHUNK) {
      const chunk = fixture.writes.slice(at, at + FILL_CHUNK)
      const outcomes = await outbox.put(chunk, Date.now())
      outcomes.forEach((outcome, i) => {
        if (!outcome.ok) throw new Error(`outbox-drain: put of ${chunk[i]!.id}: ${outcome.error.message}`)
        if (outcome.version !== chunk[i]!.version) {
          throw new Error(`outbox-drain: ${chunk[i]!.id} put at ${outcome.version}, not ${chunk[i]!.version}`)
        }
      })
    }
    const fillMs = nowMs() - f0
    const entries = await outbox.countEntries()
    if (entries !== N) throw new Error(`outbox-drain: the outbox holds ${entries} entries, expected ${N}`)

    const writer = await connectedWriter({ l3 })
    const writes: { start: number; end: number }[] = []
    const write = writer.write.bind(writer)
    writer.write = async (batch, options) => {
      const start = nowMs()
      const result = await write(batch, options)
      writes.push({ start, end: nowMs() })
      return result
    }
    const spent = { read: 0, remove: 0, lease: 0 }
    for (const shard of outbox.shards) {
      shard.read = timed(shard.read.bind(shard), spent, 'read')
      shard.removeThrough = timed(shard.removeThrough.bind(shard), spent, 'remove')
      shard.remove = timed(shard.remove.bind(shard), spent, 'remove')
    }
    outbox.lease = timed(outbox.lease.bind(outbox), spent, 'lease')
    outbox.release = timed(outbox.release.bind(outbox), spent, 'lease')

    collectGarbage()
    const t0 = nowMs()
    const report = await flushOutbox({ outbox, l3: writer, remainingMs: () => REMAINING_MS })
    const ms = nowMs() - t0

    const expected = { drained: N, stale: 0, failed: 0, left: 0, busy: 0, stopped: false }
    for (const [key, value] of Object.entries(expected)) {
      if (report[key as keyof typeof expected] !== value) {
        throw new Error(`outbox-drain: the flusher reported ${JSON.stringify(report)}`)
      }
    }
    await verifyVersions(sql, table, fixture)
    const first = writes[0]
    const last = writes.at(-1)
    return {
      ms,
      batchMs: writes.map((w) => w.end - w.start),
      fillMs,
      readMs: spent.read,
      removeMs: spent.remove,
      leaseMs: spent.lease,
      writingMs: first && last ? last.end - first.start : 0,
      l3WriteMs: writes.reduce((sum, w) => sum + w.end - w.start, 0),
    }
  } finally {
    sql.destroy()
    await outbox?.close()
    await Promise.allSettled([store?.close(), l3.close()])
    await redis.deletePrefix(prefix)
    await mysql.dropTable(table)
  }
}

/** The raw baseline of wal-drain: the same rows, 500-row prepared upserts, a drain page per transaction. */
function rawRun(mysql: MysqlService, fixture: Fixture): Promise<RunResult> {
  return rawUpsertRun(mysql, fixture, {
    table: 'outboxraw',
    txnRows: TXN_ROWS,
    verify: (sql, table) => verifyVersions(sql, table, fixture),
  })
}

const variants: Variant[] = [
  {
    label: `flushOutbox, ${SHARDS} Redis shards → MariaDB`,
    role: 'subject',
    batchSampleOf: `per L3 write of the drain (one page: up to ${DRAIN_BATCH.toLocaleString('en-US')} entries of a shard)`,
    results: [],
    run: engineRun,
  },
  {
    label: `raw mysql2 upsert, ${ROWS_PER_STATEMENT}-row statements, ${TXN_ROWS.toLocaleString('en-US')} rows/txn`,
    role: 'baseline',
    batchSampleOf: `per ${TXN_ROWS.toLocaleString('en-US')}-row transaction`,
    results: [],
    run: (_redis, mysql, fixture) => rawRun(mysql, fixture),
  },
]

const med = (variant: Variant, pick: (r: RunResult) => number | undefined) =>
  median(variant.results.map((r) => pick(r) ?? 0))

function toMeasurement(variant: Variant): Measurement {
  const runs = variant.results
  const engine = runs[0]?.fillMs !== undefined
  const ms = (pick: (r: RunResult) => number | undefined) => `${med(variant, pick).toFixed(0)} ms`
  return {
    label: variant.label,
    role: variant.role,
    latency: {
      sampleOf: engine
        ? `per \`flushOutbox\` of ${N.toLocaleString('en-US')} entries`
        : `per run of ${N.toLocaleString('en-US')} rows`,
      ns: summarize(runs.map((r) => r.ms * 1e6)),
    },
    batchLatency: {
      sampleOf: variant.batchSampleOf,
      ns: summarize(runs.flatMap((r) => r.batchMs).map((ms) => ms * 1e6)),
    },
    throughput: N / (med(variant, (r) => r.ms) / 1000),
    unit: 'items/s',
    ...(engine
      ? {
          detail: `medians per run: ${runs[0]!.batchMs.length} L3 writes, first start → last end ${ms((r) => r.writingMs)} (inside them ${ms((r) => r.l3WriteMs)}: up to two of a shard in flight, so they may overlap); waiting on the shards' reads (XRANGE of a page, decoded) ${ms((r) => r.readMs)}, their removal (\`removeThrough\`) ${ms((r) => r.removeMs)}, leases taken and released ${ms((r) => r.leaseMs)}; filling the outbox (not timed) ${ms((r) => r.fillMs)}, ${Math.round(N / (med(variant, (r) => r.fillMs) / 1000)).toLocaleString('en-US')} puts/s`,
        }
      : {}),
  }
}

export const outboxDrain: Scenario = {
  id: 'outbox-drain',
  title: 'Outbox drain by the flusher vs raw mysql2 multi-row upsert',
  async run(ctx: BenchContext) {
    const services = tiersOrSkip(ctx)
    if (services.skip !== undefined) return skippedResult(this, services.skip)
    const { redis, mysql } = services
    const fixture = buildFixture()
    await runAlternatingRounds(ctx, 'outbox-drain', ROUNDS, variants, (variant) =>
      variant.run(redis, mysql, fixture),
    )
    const [subject, baseline] = variants.map(toMeasurement) as [Measurement, Measurement]
    const perShard = Math.ceil(N / SHARDS)
    return {
      id: this.id,
      title: this.title,
      setup: [
        `${N.toLocaleString('en-US')} distinct JSON items of ~200 bytes (\`SyncItem.fromJson\`, versioned as in wal-drain, built before timing); every run on a fresh Redis key prefix and MariaDB table; ${ROUNDS} rounds with the variant order alternating; the table shows the median run, items/s = N ÷ median time.`,
        `Before timing: \`openRedisStore(url, { prefix, shards: ${SHARDS} })\`, \`new RedisOutbox(store, { maxBytes: 1 GiB })\`, \`open()\`, \`bind(l3.identity)\` with \`l3 = createMysqlStore({ url, table })\` after \`l3.init()\`; the outbox filled by \`outbox.put(writes, Date.now())\` ${FILL_CHUNK} writes a call (each write's item into L2 and its entry into its shard's stream, one script per shard; every receipt checked at the baseline's version), \`countEntries()\` = ${N.toLocaleString('en-US')}; the writer \`connectedWriter({ l3 })\` (L3 behind a breaker, connected).`,
        `Timed: \`await flushOutbox({ outbox, l3: writer, remainingMs: () => 600_000 })\` — every shard in turn under its lease (SET NX PX), drained through the log drain in pages of up to ${DRAIN_BATCH.toLocaleString('en-US')} entries (~${perShard.toLocaleString('en-US')} entries a shard here; up to two L3 writes of a shard in flight, the next page read meanwhile; superseded entries reported, so L3 says which were stale), trimmed with \`removeThrough\`, the lease released, then the entries left counted. Verified after: the report is exactly \`{ drained: ${N}, stale: 0, failed: 0, left: 0, busy: 0, stopped: false }\` and all ${N.toLocaleString('en-US')} rows are in MariaDB, live, each at its write's version.`,
        `Raw baseline in the same run (wal-drain's): the same ${N.toLocaleString('en-US')} rows into a fresh table through one mysql2 connection, prepared \`mysqlDialect.upsert(table, ${ROWS_PER_STATEMENT})\` (the engine's own \`INSERT … ON DUPLICATE KEY UPDATE\`), ${TXN_ROWS.toLocaleString('en-US')} rows (one drain page) per \`BEGIN\`…\`COMMIT\`; verified the same way. It reads nothing from Redis: the drain's reads, decoding and removals are the cost of the outbox.`,
      ],
      measurements: [subject, baseline],
      verdicts: [verdict(subject, baseline, TARGET)],
      notes: [gapNote(variants[0]!, variants[1]!), PROFILE],
    }
  },
}

/** This run's account of where the drain's time goes, against the raw transaction of a page's size. */
function gapNote(engine: Variant, raw: Variant): string {
  const drain = med(engine, (r) => r.ms)
  const writing = med(engine, (r) => r.writingMs)
  const pages = med(engine, (r) => r.batchMs.length) || 1
  const l3Write = median(engine.results.flatMap((r) => r.batchMs))
  const rawTxn = median(raw.results.flatMap((r) => r.batchMs))
  const perRow = (ms: number) => `${((ms * 1000) / N).toFixed(1)} µs a row`
  return (
    `How the drain spends its time in this run (medians): ${drain.toFixed(0)} ms in all against ${med(raw, (r) => r.ms).toFixed(0)} ms for the raw upserts. ` +
    `One L3 write took ${l3Write.toFixed(1)} ms for a page of ~${Math.round(N / pages).toLocaleString('en-US')} entries (inside the writes ${perRow(med(engine, (r) => r.l3WriteMs))}), the raw ${TXN_ROWS.toLocaleString('en-US')}-row transaction ${rawTxn.toFixed(1)} ms (${perRow(med(raw, (r) => r.ms))}). ` +
    `The shards are drained one after another: the L3 writes ran from the first start to the last end over ${writing.toFixed(0)} ms (${formatPercent(writing / drain)} of the drain), and between shards L3 waits while the next shard is leased and its first page read — ${med(engine, (r) => r.readMs).toFixed(0)} ms waiting on reads in all (some of it behind an L3 write), ${med(engine, (r) => r.removeMs).toFixed(0)} ms on removals, ${med(engine, (r) => r.leaseMs).toFixed(0)} ms on leases.`
  )
}
