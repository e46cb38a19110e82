import {
  type L3Store,
  parseConfig,
  type SqlValue,
  type SubmitOptions,
  SyncEngine,
  SyncItem,
  sqliteDialect,
} from '@sync-engine/core/internal'
import { createSqliteStore, SqliteWriteAheadLog } from '@sync-engine/sql-sqlite'
import Database from 'better-sqlite3'
import { runAlternatingRounds } from '../alternating-rounds.ts'
import { collectGarbage, makeIds, makeValues } from '../fixtures.ts'
import { type BenchContext, type Measurement, type Role, type Scenario, verdict } from '../report.ts'
import { median, nowMs, summarize } from '../stats.ts'
import { rowValues } from '../tiered-fixture.ts'

const N = 20_000
const ROUNDS = 7
const TARGET = 0.5
const STORED: SubmitOptions = { ack: 'stored' }
/** The embedded default's config: every field at its default (as `serve` with no settings). */
const CONFIG = parseConfig({})
const TABLE = CONFIG.sqlTable

interface Fixture {
  readonly items: readonly SyncItem[]
  /** Raw baseline: the bind parameters of each row, in the engine's column order. */
  readonly params: readonly SqlValue[][]
  readonly lastText: string
}

interface RunResult {
  readonly ms: number
  /** Per write: one awaited submit (raw: one statement), ms. */
  readonly writeMs: Float64Array
  /** Records per L3 write call the engine made. */
  readonly l3Writes?: readonly number[]
}

interface Variant {
  readonly label: string
  readonly role: Role
  run(ctx: BenchContext, fixture: Fixture): Promise<RunResult>
  readonly results: RunResult[]
}

/** Every item is in the file (live), the last one with its JSON text; `versions` (if given) exactly. */
function verify(path: string, fixture: Fixture, versions?: Float64Array): void {
  const db = new Database(path, { readonly: true })
  try {
    const rows = db.prepare(`SELECT id, version FROM "${TABLE}" WHERE tombstone = 0`).raw(true).all() as [
      string,
      number,
    ][]
    if (rows.length !== N) throw new Error(`sequential-stored: ${path}: ${rows.length} rows, expected ${N}`)
    if (versions) {
      const stored = new Map(rows)
      fixture.items.forEach((item, i) => {
        if (stored.get(item.id) !== versions[i])
          throw new Error(`sequential-stored: ${item.id} acknowledged at ${versions[i]}, not in the file`)
      })
    }
    const last = fixture.items[N - 1]!
    const payload = db.prepare(`SELECT payload FROM "${TABLE}" WHERE id = ?`).pluck().get(last.id)
    if (payload !== fixture.lastText) throw new Error(`sequential-stored: ${last.id} differs`)
  } finally {
    db.close()
  }
}

/**
 * The embedded default, built as `createEngineFromConfig` builds it with no `sqlUrl` and no
 * `redisUrl`: SQLite L3, the SQLite write-ahead log (synchronous FULL, walMaxBytes), no L2. Each
 * ack is checked against the file before the engine shuts down.
 */
async function engineRun(ctx: BenchContext, fixture: Fixture): Promise<RunResult> {
  const path = ctx.tmp.file('seq-sync')
  const walPath = ctx.tmp.file('seq-wal')
  const store = createSqliteStore({ path, table: TABLE })
  const l3Writes: number[] = []
  const write: L3Store['write'] = store.write.bind(store)
  store.write = (records, options) => {
    l3Writes.push(records.length)
    return write(records, options)
  }
  const wal = new SqliteWriteAheadLog({ path: walPath, maxBytes: CONFIG.walMaxBytes })
  const engine = new SyncEngine({ config: CONFIG, l3: store, wal })
  try {
    await engine.start()
    const { items } = fixture
    const versions = new Float64Array(N)
    const writeMs = new Float64Array(N)
    collectGarbage()
    const t0 = nowMs()
    let w0 = t0
    for (let i = 0; i < N; i++) {
      versions[i] = (await engine.submit(items[i]!, STORED)).version
      const w1 = nowMs()
      writeMs[i] = w1 - w0
      w0 = w1
    }
    const ms = nowMs() - t0
    verify(path, fixture, versions)
    await engine.shutdown()
    return { ms, writeMs, l3Writes }
  } finally {
    await engine.shutdown().catch(() => {})
    ctx.tmp.removeDb(path)
    ctx.tmp.removeDb(walPath)
  }
}

/** One prepared single-row upsert per write (autocommit), the store's pragmas and schema. */
async function rawRun(ctx: BenchContext, fixture: Fixture): Promise<RunResult> {
  const path = ctx.tmp.file('seq-raw')
  const db = new Database(path)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('busy_timeout = 5000')
    const schema = [
      ...sqliteDialect.createSchema(TABLE),
      ...sqliteDialect.migrate(TABLE, new Set(['expires_at'])),
    ]
    for (const statement of schema) db.prepare(statement.sql).run(...statement.params)
    const upsert = db.prepare(sqliteDialect.upsert(TABLE, 1))
    const { params } = fixture
    const writeMs = new Float64Array(N)
    collectGarbage()
    const t0 = nowMs()
    let w0 = t0
    for (let i = 0; i < N; i++) {
      upsert.run(...params[i]!)
      const w1 = nowMs()
      writeMs[i] = w1 - w0
      w0 = w1
    }
    const ms = nowMs() - t0
    db.close()
    verify(path, fixture)
    return { ms, writeMs }
  } finally {
    if (db.open) db.close()
    ctx.tmp.removeDb(path)
  }
}

const variants: Variant[] = [
  {
    label: "engine (embedded default: SQLite L3 + log), awaited ack 'stored' submits",
    role: 'subject',
    results: [],
    run: engineRun,
  },
  {
    label: 'raw better-sqlite3 single-row upsert, one statement per write',
    role: 'baseline',
    results: [],
    run: rawRun,
  },
]

function buildFixture(): Fixture {
  const ids = makeIds(N)
  const values = makeValues(N)
  const items = ids.map((id, i) => SyncItem.fromJson(id, values[i]))
  const decoder = new TextDecoder()
  const updatedAt = Date.now()
  const params = items.map((item, i) => rowValues(item.withVersion(updatedAt * 1000 + i, updatedAt), decoder))
  return { items, params, lastText: decoder.decode(items[N - 1]!.content) }
}

function toMeasurement(variant: Variant): Measurement {
  const runs = variant.results
  const medianMs = median(runs.map((r) => r.ms))
  const details: string[] = []
  const writes = runs[0]?.l3Writes
  if (writes) {
    const sizes = [...new Set(writes)].sort((a, b) => b - a).join(', ')
    details.push(
      `L3 write calls per run: ${writes.length.toLocaleString('en-US')} (records per call: ${sizes})`,
    )
  }
  details.push(`mean per write ${((medianMs / N) * 1000).toFixed(1)} µs (median run ÷ N)`)
  return {
    label: variant.label,
    role: variant.role,
    latency: {
      sampleOf: `per run of ${N.toLocaleString('en-US')} sequential writes`,
      ns: summarize(runs.map((r) => r.ms * 1e6)),
    },
    batchLatency: {
      sampleOf: 'per write (one awaited submit; raw: one statement), every write of every run',
      ns: summarize(runs.flatMap((r) => Array.from(r.writeMs, (ms) => ms * 1e6))),
    },
    throughput: N / (medianMs / 1000),
    unit: 'writes/s',
    detail: details.join('; '),
  }
}

export const sequentialStored: Scenario = {
  id: 'sequential-stored',
  title: "Sequential ack 'stored' writes, embedded SQLite",
  async run(ctx: BenchContext) {
    const fixture = buildFixture()
    await runAlternatingRounds(ctx, 'sequential-stored', ROUNDS, variants, (variant) =>
      variant.run(ctx, fixture),
    )
    const [subject, baseline] = variants.map(toMeasurement) as [Measurement, Measurement]
    return {
      id: this.id,
      title: this.title,
      setup: [
        `${N.toLocaleString('en-US')} distinct JSON items of ~200 bytes (\`makeValues\`, \`SyncItem.fromJson\`, built before timing), written one at a time: each write waits for the previous one to be acknowledged. Each variant on a fresh SQLite file, ${ROUNDS} rounds with the variant order alternating; the table shows the median run, writes/s = N ÷ median run time.`,
        `Engine: the embedded default as \`createEngineFromConfig\` builds it with no \`sqlUrl\` and no \`redisUrl\`: \`new SyncEngine({ config, l3: createSqliteStore({ path, table: '${TABLE}' }), wal: new SqliteWriteAheadLog({ path, maxBytes: walMaxBytes }) })\`, every config field at its default, no L2. The log (synchronous=FULL) is opened at start but not written: ack 'stored' does not append to it. Timed: \`await engine.submit(item, { ack: 'stored' })\` for every item, each resolving once its flush committed to SQLite; construction and \`start()\` are outside the timed region. Afterwards, before shutdown, every acknowledged (id, version) is checked in the file, and the last row's JSON text.`,
        `Raw baseline: better-sqlite3 on a fresh file with the store's pragmas (journal_mode=WAL, synchronous=NORMAL, busy_timeout=5000, as \`BetterSqlite3Transport\` sets them: no fsync per commit), schema from \`sqliteDialect.createSchema\` + \`migrate\`, one prepared single-row \`sqliteDialect.upsert('${TABLE}', 1)\` (the engine's \`INSERT … ON CONFLICT (id) DO UPDATE … WHERE excluded.version > version\`) run once per write in autocommit (one transaction per write), binding the same column values; a synchronous loop, as an application calling better-sqlite3 would write it. Verified afterwards (row count, last row).`,
        'Per-write latency is timed around every write on both sides (a `performance.now()` per write, about 0.1 % of a write).',
      ],
      measurements: [subject, baseline],
      verdicts: [verdict(subject, baseline, TARGET)],
      notes: [],
    }
  },
}
