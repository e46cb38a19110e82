import {
  type L3Store,
  parseConfig,
  type SubmitOptions,
  SyncEngine,
  SyncItem,
  sqliteDialect,
} from '@sync-engine/core/internal'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import Database from 'better-sqlite3'
import { runAlternatingRounds } from '../alternating-rounds.ts'
import { collectGarbage, makeIds, makeValues } from '../fixtures.ts'
import { type BenchContext, type Measurement, type Role, type Scenario, verdict } from '../report.ts'
import { median, nowMs, summarize } from '../stats.ts'

const N = 100_000
const ROUNDS = 7
const TABLE = 'sync_items'
/** Rows per transaction of the raw baseline. */
const TXN_ROWS = 1_000
/** Rows per multi-row statement of the raw baseline (the same as the engine's sqlite dialect). */
const ROWS_PER_STATEMENT = sqliteDialect.maxRowsPerStatement
/** Submits in flight at once in the ack 'stored' variant. */
const CONCURRENCY = 1_000
const TARGET = 0.7
const QUEUED: SubmitOptions = { ack: 'queued' }
const STORED: SubmitOptions = { ack: 'stored' }

interface Fixture {
  readonly ids: readonly string[]
  readonly values: readonly Record<string, unknown>[]
  readonly items: readonly SyncItem[]
  readonly chunks: readonly (readonly SyncItem[])[]
  readonly rows: readonly RawRow[]
}

/** The column values the engine writes for an item, pre-built for the raw baseline. */
interface RawRow {
  readonly id: string
  readonly version: number
  readonly updatedAt: number
  readonly hash: string
  readonly payload: string
}

interface RunResult {
  readonly ms: number
  /** Per-batch latencies (raw: one transaction; engine 'stored': one chunk of concurrent submits). */
  readonly batchMs?: readonly number[]
  readonly submitMs?: number
  readonly flushMs?: number
  /** Records per L3 write call the engine made. */
  readonly l3Writes?: readonly number[]
}

interface Variant {
  readonly label: string
  readonly role: Role
  /** What one `batchMs` sample is. */
  readonly batchSampleOf?: string
  run(ctx: BenchContext, fixture: Fixture): Promise<RunResult>
  readonly results: RunResult[]
}

/** The engine's own upsert statement (the dialect's SQL), so both sides run the same SQL. */
function upsertSql(): string {
  return sqliteDialect.upsert(TABLE, ROWS_PER_STATEMENT)
}

function openRaw(path: string): Database.Database {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  for (const statement of sqliteDialect.createSchema(TABLE))
    db.prepare(statement.sql).run(...statement.params)
  return db
}

/** Every item must be in the file, with the content and hash the engine computed. */
function verify(path: string, fixture: Fixture): void {
  const db = new Database(path, { readonly: true })
  try {
    const { n } = db.prepare(`SELECT COUNT(*) AS n FROM ${TABLE} WHERE tombstone = 0`).get() as { n: number }
    if (n !== N) throw new Error(`${path}: ${n} rows, expected ${N}`)
    const last = fixture.rows[N - 1]!
    const row = db.prepare(`SELECT hash, payload FROM ${TABLE} WHERE id = ?`).get(last.id) as
      | { hash: string; payload: string }
      | undefined
    if (row?.hash !== last.hash || row.payload !== last.payload)
      throw new Error(`${path}: row ${last.id} differs`)
  } finally {
    db.close()
  }
}

/** A fresh engine on a fresh file (default thresholds), started outside the timed region. */
async function withEngine(
  ctx: BenchContext,
  fixture: Fixture,
  timed: (engine: SyncEngine) => Promise<Omit<RunResult, 'l3Writes'>>,
): Promise<RunResult> {
  const path = ctx.tmp.file('engine')
  const store = createSqliteStore({ path })
  const l3Writes: number[] = []
  const write: L3Store['write'] = store.write.bind(store)
  store.write = (records) => {
    l3Writes.push(records.length)
    return write(records)
  }
  const engine = new SyncEngine({ l3: store })
  await engine.start()
  try {
    collectGarbage()
    const result = await timed(engine)
    const report = await engine.flush()
    if (report.pending !== 0) throw new Error(`engine still has ${report.pending} writes queued`)
    await engine.shutdown()
    verify(path, fixture)
    return { ...result, l3Writes }
  } finally {
    await engine.shutdown().catch(() => {})
    ctx.tmp.removeDb(path)
  }
}

function rawRun(ctx: BenchContext, fixture: Fixture): RunResult {
  const path = ctx.tmp.file('raw')
  const db = openRaw(path)
  try {
    const statement = db.prepare(upsertSql())
    const rows = fixture.rows
    const insert = db.transaction((from: number, to: number) => {
      for (let start = from; start < to; start += ROWS_PER_STATEMENT) {
        const params: (string | number | null)[] = []
        for (let i = start; i < start + ROWS_PER_STATEMENT; i++) {
          const r = rows[i]!
          params.push(
            r.id,
            r.version,
            r.updatedAt,
            r.hash,
            'default',
            'json',
            'application/json',
            r.payload,
            null,
            0,
            null,
          )
        }
        // Spread binding measured ~15 % faster than passing the array in better-sqlite3 12.
        statement.run(...params)
      }
    })
    collectGarbage()
    const batchMs: number[] = []
    const t0 = nowMs()
    for (let from = 0; from < N; from += TXN_ROWS) {
      const b0 = nowMs()
      insert(from, from + TXN_ROWS)
      batchMs.push(nowMs() - b0)
    }
    const ms = nowMs() - t0
    db.close()
    verify(path, fixture)
    return { ms, batchMs }
  } finally {
    if (db.open) db.close()
    ctx.tmp.removeDb(path)
  }
}

const variants: Variant[] = [
  {
    label: "engine, ack 'queued', then flush()",
    role: 'subject',
    results: [],
    run: (ctx, fixture) =>
      withEngine(ctx, fixture, async (engine) => {
        const t0 = nowMs()
        for (const item of fixture.items) await engine.submit(item, QUEUED)
        const t1 = nowMs()
        await engine.flush()
        const t2 = nowMs()
        return { ms: t2 - t0, submitMs: t1 - t0, flushMs: t2 - t1 }
      }),
  },
  {
    label: `raw better-sqlite3 upsert, ${ROWS_PER_STATEMENT} rows/statement, ${TXN_ROWS.toLocaleString('en-US')} rows/txn`,
    role: 'baseline',
    batchSampleOf: `per ${TXN_ROWS.toLocaleString('en-US')}-row transaction`,
    results: [],
    run: async (ctx, fixture) => rawRun(ctx, fixture),
  },
  {
    label: `engine, ack 'stored', ${CONCURRENCY.toLocaleString('en-US')} concurrent submits at a time`,
    role: 'info',
    batchSampleOf: `per chunk of ${CONCURRENCY.toLocaleString('en-US')} concurrent submits, until all acked`,
    results: [],
    run: (ctx, fixture) =>
      withEngine(ctx, fixture, async (engine) => {
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
    label: "engine, ack 'queued', end-to-end incl. SyncItem.fromJson",
    role: 'info',
    results: [],
    run: (ctx, fixture) =>
      withEngine(ctx, fixture, async (engine) => {
        const { ids, values } = fixture
        const t0 = nowMs()
        for (let i = 0; i < N; i++) await engine.submit(SyncItem.fromJson(ids[i]!, values[i]), QUEUED)
        const t1 = nowMs()
        await engine.flush()
        const t2 = nowMs()
        return { ms: t2 - t0, submitMs: t1 - t0, flushMs: t2 - t1 }
      }),
  },
]

function buildFixture(): Fixture {
  const ids = makeIds(N)
  const values = makeValues(N)
  const items = ids.map((id, i) => SyncItem.fromJson(id, values[i]))
  const chunks: SyncItem[][] = []
  for (let i = 0; i < N; i += CONCURRENCY) chunks.push(items.slice(i, i + CONCURRENCY))
  const decoder = new TextDecoder()
  const updatedAt = Date.now()
  const rows = items.map((item, i) => ({
    id: item.id,
    version: updatedAt * 1000 + i,
    updatedAt,
    hash: item.hash,
    payload: decoder.decode(item.content),
  }))
  return { ids, values, items, chunks, rows }
}

function toMeasurement(variant: Variant): Measurement {
  const runs = variant.results
  const medianMs = median(runs.map((r) => r.ms))
  const batches = runs.flatMap((r) => r.batchMs ?? [])
  const details: string[] = []
  if (runs[0]?.submitMs !== undefined) {
    details.push(
      `median submit loop ${median(runs.map((r) => r.submitMs!)).toFixed(0)} ms + flush ${median(runs.map((r) => r.flushMs!)).toFixed(0)} ms`,
    )
  }
  const writes = runs[0]?.l3Writes
  if (writes) {
    const sizes = [...new Set(writes)].sort((a, b) => b - a).join(', ')
    details.push(`L3 write calls per run: ${writes.length} (batch sizes: ${sizes})`)
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
    throughput: N / (medianMs / 1000),
    unit: 'items/s',
    ...(details.length > 0 ? { detail: details.join('; ') } : {}),
  }
}

export const sqliteWrite: Scenario = {
  id: 'sqlite-write',
  title: 'SQLite write throughput',
  async run(ctx: BenchContext) {
    const fixture = buildFixture()
    if (N % TXN_ROWS !== 0 || TXN_ROWS % ROWS_PER_STATEMENT !== 0) throw new Error('N, TXN_ROWS mismatch')
    await runAlternatingRounds(ctx, 'sqlite-write', ROUNDS, variants, (variant) => variant.run(ctx, fixture))
    const measurements = variants.map(toMeasurement)
    const notes: string[] = []
    const { batchFlushCount } = parseConfig({})
    const largest = Math.max(...variants[0]!.results.flatMap((r) => r.l3Writes ?? []))
    if (largest > batchFlushCount) {
      notes.push(
        `The engine wrote up to ${largest.toLocaleString('en-US')} records in one L3 write (one transaction) although batchFlushCount is ${batchFlushCount.toLocaleString('en-US')}: the count threshold only schedules a timer, which cannot fire while submits resolve in microtasks, so a burst of 'queued' submits becomes a single batch.`,
      )
    }
    const subject = measurements.find((m) => m.role === 'subject')!
    const baseline = measurements.find((m) => m.role === 'baseline')!
    return {
      id: this.id,
      title: this.title,
      setup: [
        `${N.toLocaleString('en-US')} distinct JSON items of ~200 bytes (\`SyncItem.fromJson\`, built before timing unless noted), each variant on a fresh SQLite file (WAL, synchronous=NORMAL), ${ROUNDS} rounds with the variant order alternating; the table shows the median run, items/s = N ÷ median run time.`,
        `Engine: default config (batchFlushCount 1,000, batchFlushBytes 1 MiB, batchFlushMs 100), \`await engine.submit(item, { ack: 'queued' })\` for every item, then \`await engine.flush()\`; timed from the first submit until flush resolves. Engine construction and \`start()\` are outside the timed region; every run is verified afterwards (row count and the last row's hash and payload).`,
        `Raw baseline: better-sqlite3 on a fresh file, schema from \`sqliteDialect.createSchema('${TABLE}')\`, the same pragmas, one prepared ${ROWS_PER_STATEMENT}-row \`INSERT … ON CONFLICT (id) DO UPDATE SET … WHERE excluded.version > version\` (the engine's own statement, from the dialect), ${TXN_ROWS.toLocaleString('en-US')} rows per \`db.transaction\`, binding the same column values (id, version, updated_at, hash, state, content type, mime, JSON text, no expiry). The JSON text is decoded before timing, as an application would already hold it.`,
        "Informational (no target): ack 'stored' with 1,000 submits in flight at a time; and the end-to-end ingest cost with `SyncItem.fromJson` (serialise, validate, SHA-256) inside the timed region.",
        'Where the time goes (CPU profile, 2026-11-25): with a no-op L3 the engine alone spends ~155 ms per 100,000 submits and `SqlStore` ~95 ms preparing rows (validation, UTF-8 check of the JSON, parameter arrays); SQLite itself costs the same as raw. What closed the gap: batches sealed at 1,000 rows and flushed at once (before, a burst became one 100,000-row transaction: 37 % of raw), no `RETURNING` (stale rows found from the affected-row count), and L1 write-around (2026-11-27): a write no longer enters L1 unless L1 already holds an older copy of its id (the queue serves it until it is stored, and the first read admits it), which removed the lru-cache insert and its garbage from every submit (55–63 % of raw before, about 77 % after). Why that keeps every guarantee: docs/architecture.md, Decisions. 2026-12-04: the ratio had fallen to 54–58 % (the same bench at the 11-27 code, run alternately, measured 65–71 %): the engine split had put four async layers between `submit` and the queue (~3 µs a submit on a no-op L3 against ~1.25 µs before). A queued submit now resolves without a promise of its own (admission answers synchronously unless it throttles; the facade’s wrapper is not async), and a write reads the clock only when L1 holds a copy it replaces: ~1.3 µs, 65–70 % of raw. What is left is SQLite itself (its `run` ~55 % of the profile) and the store’s row preparation (the JSON text decoded, parameters pushed), each a few percent.',
      ],
      measurements,
      verdicts: [verdict(subject, baseline, TARGET)],
      notes,
    }
  },
}
