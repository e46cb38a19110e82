import { randomBytes } from 'node:crypto'
import { encodeEnvelope, type L2WriteEntry, RedisKeyLayout } from '@sync-engine/core/internal'
import { openUpstashStore } from '@sync-engine/redis-upstash'
import { Redis as UpstashRedis } from '@upstash/redis'
import type { Redis } from 'ioredis'
import { startUpstashRestServer, type UpstashRestServer } from '../../test/support/upstash-rest-server.ts'
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
import type { RedisService } from '../services.ts'
import { median, nowMs, summarize } from '../stats.ts'
import { makeItems } from '../tiers.ts'

const N = 5_000
const ROUNDS = 5
/** Entries per `store.write` (as the engine's flusher sends a batch) and SETs per raw pipeline. */
const BATCH = 500
const TARGET = 0.8
/** Where the time went when first examined (Redis INFO commandstats around a run, this machine). */
const PROFILE =
  'Where the time goes (examined 2026-12-03 on this machine, from Redis `INFO commandstats` before and after a run): the store’s guarded EVALSHAs took ~13 ms of Redis time per 256-key call, ~270 ms of a ~390 ms run (~50 µs a key), against ~8 ms for the raw run’s 5,000 SETs. Nearly all of it was the base64 decode in Lua, then one decode call per 4 characters (~100 per envelope); it now runs through `string.gsub` with a per-call table of the groups already decoded (a new group is decoded once by `__index`), which took the ratio from 0.42–0.48 to 0.61–0.77 on this machine. Then JSON envelopes went to Latin-1 instead (text-wire.ts: each byte as the character of that code; JSON carries ASCII bytes as themselves and Lua decodes only bytes 0x80–0xFF, with one table-driven `string.gsub` in C) and the ratio rose to 0.85–1.14 in two runs: the raw baseline sends base64 (4/3 the bytes), the store now about 1×. Binary content still goes as base64 (its control bytes would be six-character JSON escapes). The binary-safe guard costs ~4 µs a key (tiered-write).'

/** Built before timing: the engine's write entries and what the raw baseline sends for them. */
interface Fixture {
  readonly entries: readonly L2WriteEntry[]
  /** `entries` in groups of `BATCH` (one `store.write` each). */
  readonly batches: readonly (readonly L2WriteEntry[])[]
  /** Raw baseline: the base64 text of each entry's envelope (how a client stores bytes through Upstash). */
  readonly envelopes64: readonly string[]
  /** Envelope bytes of the last entry (what the engine's key must hold after a run). */
  readonly lastEnvelope: Buffer
  readonly envelopeBytes: string
}

interface RunResult {
  readonly ms: number
  readonly batchMs: readonly number[]
}

interface Variant {
  readonly label: string
  readonly role: Role
  run(env: Env): Promise<RunResult>
  readonly results: RunResult[]
}

interface Env {
  readonly redis: RedisService
  readonly admin: Redis
  readonly server: UpstashRestServer
  readonly fixture: Fixture
}

function buildFixture(): Fixture {
  const items = makeItems(N)
  const updatedAt = Date.now()
  // A versioned item is a `StoredRecord` (what the flusher's `recordOf` hands L2 for a write).
  const entries: L2WriteEntry[] = items.map((item, i) => ({
    record: item.withVersion(updatedAt * 1000 + i, updatedAt),
  }))
  const batches: L2WriteEntry[][] = []
  for (let i = 0; i < N; i += BATCH) batches.push(entries.slice(i, i + BATCH))
  const envelopes = entries.map((entry) => Buffer.from(encodeEnvelope(entry.record)))
  const sizes = envelopes.map((bytes) => bytes.byteLength).sort((a, b) => a - b)
  return {
    entries,
    batches,
    envelopes64: envelopes.map((bytes) => bytes.toString('base64')),
    lastEnvelope: envelopes[N - 1]!,
    envelopeBytes: `${sizes[0]}–${sizes.at(-1)}`,
  }
}

/**
 * Every key of the run exists under its prefix, and the last one holds what it should (the
 * envelope bytes for the store, which sends them as text and decodes them inside Redis; the base64 text for raw SET).
 * Then the run's keys are deleted (SCAN + UNLINK of its prefix).
 */
async function verifyAndDelete(env: Env, prefix: string, lastKey: string, expected: Buffer): Promise<void> {
  try {
    const keys = await env.redis.countItemKeys(prefix)
    if (keys !== N) throw new Error(`upstash-writes: ${keys} keys under ${prefix}, expected ${N}`)
    const last = await env.admin.getBuffer(lastKey)
    if (last === null || !last.equals(expected)) throw new Error(`upstash-writes: ${lastKey} differs`)
  } finally {
    await env.redis.deletePrefix(prefix)
  }
}

/** A fresh store on a fresh prefix (PING and capability detection before timing). */
async function engineRun(env: Env): Promise<RunResult> {
  const prefix = env.redis.prefix('upwrite')
  const store = await openUpstashStore({ url: env.server.url, token: env.server.token }, { prefix })
  const keys = new RedisKeyLayout(prefix)
  try {
    collectGarbage()
    const batchMs: number[] = []
    let applied = 0
    const t0 = nowMs()
    for (const batch of env.fixture.batches) {
      const b0 = nowMs()
      const result = await store.write(batch)
      batchMs.push(nowMs() - b0)
      applied += result.applied
    }
    const ms = nowMs() - t0
    if (applied !== N) throw new Error(`upstash-writes: the store applied ${applied} of ${N} entries`)
    const lastId = env.fixture.entries[N - 1]!.record.id
    await verifyAndDelete(env, prefix, keys.itemKey(lastId), env.fixture.lastEnvelope)
    return { ms, batchMs }
  } finally {
    await store.close()
  }
}

/** The raw baseline: `@upstash/redis` pipelines of `BATCH` SETs of the base64 envelopes. */
async function rawRun(env: Env): Promise<RunResult> {
  const prefix = env.redis.prefix('uprawwrite')
  const keys = new RedisKeyLayout(prefix)
  const itemKeys = env.fixture.entries.map((entry) => keys.itemKey(entry.record.id))
  const client = new UpstashRedis({
    url: env.server.url,
    token: env.server.token,
    automaticDeserialization: false,
    enableAutoPipelining: false,
    enableTelemetry: false,
  })
  // The same first request as the store's open (a PING), so neither side times a cold connection.
  await client.ping()
  collectGarbage()
  const batchMs: number[] = []
  const t0 = nowMs()
  for (let start = 0; start < N; start += BATCH) {
    const b0 = nowMs()
    const pipeline = client.pipeline()
    for (let i = start; i < start + BATCH; i++) pipeline.set(itemKeys[i]!, env.fixture.envelopes64[i]!)
    const replies = await pipeline.exec()
    if (replies.length !== BATCH || replies.some((reply) => reply !== 'OK')) {
      throw new Error('upstash-writes: a raw SET failed')
    }
    batchMs.push(nowMs() - b0)
  }
  const ms = nowMs() - t0
  await verifyAndDelete(env, prefix, itemKeys[N - 1]!, Buffer.from(env.fixture.envelopes64[N - 1]!))
  return { ms, batchMs }
}

const variants: Variant[] = [
  {
    label: `openUpstashStore → RedisStore.write (${BATCH} entries a call)`,
    role: 'subject',
    results: [],
    run: engineRun,
  },
  {
    label: `raw @upstash/redis pipeline (${BATCH} SETs, exec)`,
    role: 'baseline',
    results: [],
    run: rawRun,
  },
]

function toMeasurement(variant: Variant): Measurement {
  const runs = variant.results
  return {
    label: variant.label,
    role: variant.role,
    latency: {
      sampleOf: `per run of ${N.toLocaleString('en-US')} items`,
      ns: summarize(runs.map((r) => r.ms * 1e6)),
    },
    batchLatency: {
      sampleOf: `per ${BATCH}-item REST request`,
      ns: summarize(runs.flatMap((r) => r.batchMs).map((ms) => ms * 1e6)),
    },
    throughput: N / (median(runs.map((r) => r.ms)) / 1000),
    unit: 'items/s',
  }
}

export const upstashWrites: Scenario = {
  id: 'upstash-writes',
  title: 'L2 writes through Upstash REST (loopback server)',
  async run(ctx: BenchContext) {
    const redis = ctx.services.redis
    if (!redis.available) return skippedResult(this, `Skipped: Redis unreachable (${redis.reason}).`)
    const server = await startUpstashRestServer({
      redisUrl: redis.url,
      token: randomBytes(16).toString('hex'),
    })
    const admin = await redis.client()
    try {
      const env: Env = { redis, admin, server, fixture: buildFixture() }
      ctx.log('upstash-writes: warm-up run per side')
      for (const variant of variants) await variant.run(env)
      await runAlternatingRounds(ctx, 'upstash-writes', ROUNDS, variants, (variant) => variant.run(env))
      const measurements = variants.map(toMeasurement)
      const [subject, baseline] = measurements as [Measurement, Measurement]
      const perRequest = (m: Measurement) => (m.batchLatency!.ns.median / 1e6).toFixed(1)
      return {
        id: this.id,
        title: this.title,
        setup: [
          `${N.toLocaleString('en-US')} distinct JSON items of ~200 bytes (\`SyncItem.fromJson\` over \`makeValues\`, versioned with \`withVersion\` — a versioned item is the \`StoredRecord\` the flusher hands L2; ${env.fixture.envelopeBytes}-byte envelopes), built before timing. Both sides talk to the same loopback Upstash REST server (\`startUpstashRestServer\` from test/support: HTTP/JSON on 127.0.0.1 in this process, one shared ioredis connection to the real Redis behind it).`,
          `Subject: \`openUpstashStore({ url, token }, { prefix })\` (\`@sync-engine/redis-upstash\` → \`RedisStore\`), \`await store.write(entries)\` ${N / BATCH} times with ${BATCH} entries each, as the engine's flusher sends a batch: each call is one POST /pipeline of guarded EVALSHAs (up to 256 keys a call). The REST body is JSON, not binary-safe, so the store sends each envelope as text (JSON content as Latin-1, binary as base64: text-wire.ts) and the guard script decodes it inside Redis; each key holds the envelope bytes.`,
          `Raw baseline: \`new Redis({ url, token, automaticDeserialization: false, enableAutoPipelining: false })\` from \`@upstash/redis\`, ${N / BATCH} × \`redis.pipeline()\` of ${BATCH} \`set(key, envelopeBase64)\` then \`exec()\`: the same keys, and the same envelope bytes base64-encoded (built before timing), stored as that base64 text — no version guard, no decoding in Redis.`,
          `Every run on a fresh key prefix (store opened, or the raw client's first PING sent, before timing); verified after it: the reply of every call (${N.toLocaleString('en-US')} entries applied; every SET \`OK\`), the key count under the prefix (SCAN) and the last key's bytes; then the prefix's keys are deleted (SCAN + UNLINK). One warm-up run per side, then ${ROUNDS} rounds with the side order alternating; the table shows the median run, items/s = N ÷ median run time.`,
        ],
        measurements,
        verdicts: [verdict(subject, baseline, TARGET)],
        notes: [
          `Median ${BATCH}-item REST request in this run: store ${perRequest(subject)} ms, raw pipeline ${perRequest(baseline)} ms. The store's request carries ${Math.ceil(BATCH / 256)} script calls (version guard + the text decode in Lua per key) where the raw one carries ${BATCH} plain SETs; the HTTP/JSON hop is the same for both.`,
          PROFILE,
        ],
      }
    } finally {
      admin.disconnect()
      await server.close()
    }
  },
}
