import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { RedisOutbox } from '@sync-engine/core/internal'
import { startServer } from '@sync-engine/node'
import { openRedisStore } from '@sync-engine/redis-ioredis'
import { DIST } from '../../test/contract/contract-targets.ts'
import { httpEvent } from '../../test/contract/lambda-process.ts'
import { runAlternatingRounds } from '../alternating-rounds.ts'
import { jsonOfBytes } from '../http-servers.ts'
import {
  absoluteVerdict,
  type BenchContext,
  formatRatio,
  type Measurement,
  type Role,
  type Scenario,
  skippedResult,
  type Verdict,
} from '../report.ts'
import type { MysqlService, RedisService } from '../services.ts'
import { median, nowMs, nowNs, summarize } from '../stats.ts'
import { tiersOrSkip } from '../tiers.ts'

const MiB = 1024 * 1024
/** The size budget of each entry with what it imports statically (dist/bundles.json `staticBytes`). */
const SIZE_BOUND = MiB
const IMPORT_TARGET_MS = 150
/** Fresh processes per entry (and per bare `node`), one of each per round. */
const SPAWNS = 10
const ROUNDS = 4
/** Requests of each kind per side, over `ROUNDS`; `BENCH_SERVERLESS_N` makes a smoke run small. */
const REQUESTS = requestCount(process.env.BENCH_SERVERLESS_N)
const WARMUP = 200
const ITEM_BYTES = 1024
const TOKEN = 'bench-serverless-token-0123456789'
/** The item every GET reads (written once per side before the warm-up). */
const EXISTING = 'existing'

const ENTRIES = ['lambda/api.mjs', 'lambda/flusher.mjs', 'worker/index.mjs'] as const
type Entry = (typeof ENTRIES)[number]

function requestCount(text: string | undefined): number {
  if (text === undefined || text === '') return 2_000
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < ROUNDS) {
    throw new Error(`BENCH_SERVERLESS_N must be an integer of at least ${ROUNDS}: ${text}`)
  }
  return n
}

interface Bundles {
  readonly [file: string]: { readonly staticBytes: number; readonly lazyChunks: number } | undefined
}

// ── cold imports ─────────────────────────────────────────────────────────────────────────────

interface ImportVariant {
  readonly label: string
  readonly role: Role
  readonly entry?: Entry
  readonly args: readonly string[]
  /** From `spawn` until the process exited. */
  readonly results: { readonly ms: number }[]
}

/** A fresh `node` with only PATH (no loader, no NODE_OPTIONS), timed until it exits. */
async function spawnNode(
  args: readonly string[],
): Promise<{ ms: number; code: number | null; stderr: string }> {
  const t0 = nowMs()
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  let ms = 0
  child.once('exit', () => {
    ms = nowMs() - t0
  })
  // 'close' comes after 'exit' once stderr is read to its end: the reason of a failure is whole.
  const [code] = (await once(child, 'close')) as [number | null]
  return { ms, code, stderr }
}

const importArgs = (file: string, moduleInput: boolean) => [
  ...(moduleInput ? ['--input-type=module'] : []),
  '-e',
  `await import(${JSON.stringify(pathToFileURL(file).href)})`,
]

/**
 * How each entry imports in plain Node, found before timing: `node -e`; for the Worker bundle
 * (built for workerd) `--input-type=module` if that fails; else why it cannot be measured.
 */
async function importVariants(): Promise<{ variants: ImportVariant[]; skipped: string[] }> {
  const variants: ImportVariant[] = [
    { label: 'bare `node -e "0"`', role: 'baseline', args: ['-e', '0'], results: [] },
  ]
  const skipped: string[] = []
  for (const entry of ENTRIES) {
    const file = join(DIST, entry)
    const tries = entry.startsWith('worker/') ? [false, true] : [false]
    let reason = ''
    for (const moduleInput of tries) {
      const args = importArgs(file, moduleInput)
      const probe = await spawnNode(args)
      if (probe.code === 0) {
        const how = moduleInput
          ? '`node --input-type=module -e "await import(…)"`'
          : '`node -e "await import(…)"`'
        variants.push({ label: `dist/${entry}: ${how}`, role: 'subject', entry, args, results: [] })
        reason = ''
        break
      }
      const lines = probe.stderr.split('\n')
      const why = lines.find((line) => /Error/.test(line)) ?? lines[0]
      reason += `${reason ? '; ' : ''}${moduleInput ? '--input-type=module' : 'node -e'} exited ${probe.code}: ${why}`
    }
    if (reason) skipped.push(`dist/${entry} cold import not measured: ${reason}`)
  }
  return { variants, skipped }
}

function importMeasurement(variant: ImportVariant, bare: ImportVariant, bundles: Bundles): Measurement {
  const ms = variant.results.map((r) => r.ms)
  const size = bundles[`dist/${variant.entry}`]
  const overBare = median(ms) - median(bare.results.map((r) => r.ms))
  const bytes = size
    ? `; ${size.staticBytes.toLocaleString('en-US')} bytes imported statically (${formatRatio(size.staticBytes / SIZE_BOUND)} of 1 MiB), ${size.lazyChunks} lazy chunks`
    : ''
  const detail = variant.entry && `median minus the bare spawn's: ${overBare.toFixed(1)} ms${bytes}`
  return {
    label: variant.label,
    role: variant.role,
    latency: {
      sampleOf: 'per fresh process, spawn → exit',
      ns: summarize(ms.map((v) => v * 1e6)),
    },
    throughput: 1000 / median(ms),
    unit: 'spawns/s',
    ...(detail ? { detail } : {}),
  }
}

// ── handler latency: Lambda in process vs the Node server over loopback ─────────────────────────

interface LatencyRun {
  readonly ms: number
  readonly getNs: readonly number[]
  readonly putNs: readonly number[]
}

interface Reply {
  readonly statusCode: number
  readonly body: string
}

interface Side {
  readonly label: string
  readonly prefix: string
  readonly table: string
  /** Lambda: the first invocation (it builds the engine); Node: `startServer`. In ms. */
  readonly firstMs: number
  /** Requests of one kind, one after another, each timed; GETs are of `EXISTING`. */
  send(kind: 'GET' | 'PUT', ids: readonly string[]): Promise<{ ns: number[]; replies: Reply[] }>
  close(): Promise<void>
  readonly results: LatencyRun[]
  putsSent: number
}

/** What a GET of the existing item and a PUT must answer, or a throw naming the side. */
function check(side: Side, kind: 'GET' | 'PUT', replies: readonly Reply[], body: string): void {
  for (const reply of replies) {
    const ok =
      kind === 'GET'
        ? reply.statusCode === 200 && reply.body === body
        : (reply.statusCode === 200 || reply.statusCode === 201) &&
          (JSON.parse(reply.body) as { ack?: string }).ack === 'logged'
    if (!ok) throw new Error(`serverless-entries: ${side.label} ${kind}: ${reply.statusCode} ${reply.body}`)
  }
  if (kind === 'PUT') side.putsSent += replies.length
}

/** `gets` GETs of the existing item, then a PUT to each of `puts`; checked after timing. */
async function round(side: Side, gets: number, puts: readonly string[], body: string): Promise<LatencyRun> {
  const t0 = nowMs()
  const got = await side.send(
    'GET',
    Array.from({ length: gets }, () => EXISTING),
  )
  const put = await side.send('PUT', puts)
  const ms = nowMs() - t0
  check(side, 'GET', got.replies, body)
  check(side, 'PUT', put.replies, body)
  return { ms, getNs: got.ns, putNs: put.ns }
}

/**
 * The Lambda child: imports the API bundle, then on each IPC message invokes the handler with its
 * events one after another, timing each call in the process (no socket between caller and handler).
 * It exits when told to: the warm instance's Redis and SQL connections have no close of their own.
 */
const LAMBDA_CHILD = `
const { handler } = await import(process.argv[1])
const context = { awsRequestId: 'bench', getRemainingTimeInMillis: () => 30_000 }
process.on('message', async ({ events, stop }) => {
  if (stop) process.exit(0)
  const ns = []
  const replies = []
  for (const event of events) {
    const t0 = process.hrtime.bigint()
    const result = await handler(event, context)
    ns.push(Number(process.hrtime.bigint() - t0))
    const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString() : result.body
    replies.push({ statusCode: result.statusCode, body })
  }
  process.send({ ns, replies })
})
process.send({ ready: true })
`

/** The child's next message; a child that exits fails every wait instead of leaving it hanging. */
function mailbox(child: ChildProcess, stderr: () => string): <T>() => Promise<T> {
  const waiting: { resolve(message: unknown): void; reject(error: Error): void }[] = []
  const gone = () => new Error(`serverless-entries: the Lambda process exited: ${stderr().slice(-500)}`)
  child.on('message', (message) => waiting.shift()?.resolve(message))
  child.once('exit', () => {
    for (const wait of waiting.splice(0)) wait.reject(gone())
  })
  return <T>() =>
    new Promise<T>((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) reject(gone())
      else waiting.push({ resolve: resolve as (message: unknown) => void, reject })
    })
}

async function lambdaSide(redis: RedisService, mysql: MysqlService, body: string): Promise<Side> {
  const prefix = redis.prefix('srvlambda')
  const table = mysql.table('srvlambda')
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', LAMBDA_CHILD, pathToFileURL(join(DIST, 'lambda/api.mjs')).href],
    {
      // Only what a Lambda function is configured with: nothing inherited from this shell.
      env: {
        PATH: process.env.PATH ?? '',
        SYNC_REDIS_URL: redis.url,
        SYNC_SQL_URL: mysql.url,
        SYNC_SQL_TABLE: table,
        SYNC_REDIS_PREFIX: prefix,
        SYNC_API_TOKENS: TOKEN,
        SYNC_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const next = mailbox(child, () => stderr)
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.send({ stop: true })
    await exited
  }
  const events = {
    GET: () => httpEvent('GET', `/v1/items/${EXISTING}`, { token: TOKEN }),
    PUT: (id: string) =>
      httpEvent('PUT', `/v1/items/${id}`, { token: TOKEN, body, contentType: 'application/json' }),
  }
  const send: Side['send'] = async (kind, ids) => {
    const reply = next<{ ns: number[]; replies: Reply[] }>()
    child.send({ events: ids.map((id) => (kind === 'GET' ? events.GET() : events.PUT(id))) })
    return reply
  }
  try {
    await next<{ ready: true }>()
    const first = await send('PUT', [EXISTING])
    const side: Side = {
      label: 'Lambda `handler(event, context)` of dist/lambda/api.mjs, in process',
      prefix,
      table,
      firstMs: first.ns[0]! / 1e6,
      send,
      close,
      results: [],
      putsSent: 0,
    }
    check(side, 'PUT', first.replies, body)
    return side
  } catch (error) {
    await close()
    throw error
  }
}

async function nodeSide(redis: RedisService, mysql: MysqlService, body: string): Promise<Side> {
  const prefix = redis.prefix('srvnode')
  const table = mysql.table('srvnode')
  const t0 = nowMs()
  const server = await startServer({
    config: {
      redisUrl: redis.url,
      sqlUrl: mysql.url,
      sqlTable: table,
      redisPrefix: prefix,
      port: 0,
      apiTokens: [TOKEN],
      logLevel: 'warn',
      log: 'redis',
    },
  })
  const firstMs = nowMs() - t0
  const auth = { authorization: `Bearer ${TOKEN}` }
  const init = {
    GET: { headers: auth },
    PUT: { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body },
  }
  const send: Side['send'] = async (kind, ids) => {
    const ns: number[] = []
    const replies: Reply[] = []
    for (const id of ids) {
      const t = nowNs()
      const response = await fetch(`${server.url}/v1/items/${id}`, init[kind])
      const text = await response.text()
      ns.push(nowNs() - t)
      replies.push({ statusCode: response.status, body: text })
    }
    return { ns, replies }
  }
  const side: Side = {
    label: 'Node server `startServer`, `fetch` over loopback',
    prefix,
    table,
    firstMs,
    send,
    close: () => server.close(),
    results: [],
    putsSent: 0,
  }
  try {
    check(side, 'PUT', (await send('PUT', [EXISTING])).replies, body)
    return side
  } catch (error) {
    await server.close()
    throw error
  }
}

/** Every PUT a side acknowledged as 'logged' is an entry in its outbox (nothing flushes it here). */
async function verifyOutbox(redis: RedisService, side: Side): Promise<number> {
  const store = await openRedisStore(redis.url, { prefix: side.prefix })
  try {
    const entries = await new RedisOutbox(store, { maxBytes: 1 << 30 }).countEntries()
    if (entries !== side.putsSent) {
      throw new Error(
        `serverless-entries: ${side.label}: ${entries} outbox entries for ${side.putsSent} PUTs`,
      )
    }
    return entries
  } finally {
    await store.close()
  }
}

function latencyMeasurements(side: Side, role: Role): Measurement[] {
  return (['GET', 'PUT'] as const).map((kind) => {
    const ns = side.results.flatMap((r) => (kind === 'GET' ? r.getNs : r.putNs))
    const what =
      kind === 'GET'
        ? `GET /v1/items/${EXISTING}`
        : `PUT of a ${ITEM_BYTES.toLocaleString('en-US')}-byte JSON item, ack 'logged'`
    return {
      label: `${side.label}: ${kind}`,
      role,
      latency: { sampleOf: `per ${what}, one at a time`, ns: summarize(ns) },
      throughput: ns.length / (ns.reduce((sum, v) => sum + v, 0) / 1e9),
      unit: 'requests/s (sequential)',
    }
  })
}

async function handlerLatency(
  ctx: BenchContext,
  redis: RedisService,
  mysql: MysqlService,
): Promise<{ measurements: Measurement[]; notes: string[] }> {
  const body = jsonOfBytes(ITEM_BYTES)
  const sides: Side[] = []
  try {
    sides.push(await lambdaSide(redis, mysql, body))
    sides.push(await nodeSide(redis, mysql, body))
    const ids = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${i}`)
    for (const side of sides) await round(side, WARMUP, ids('warm', WARMUP), body)
    const perRound = Math.ceil(REQUESTS / ROUNDS)
    let call = 0
    await runAlternatingRounds(ctx, 'serverless-entries', ROUNDS, sides, (side) =>
      round(side, perRound, ids(`put-${++call}`, perRound), body),
    )
    for (const side of sides) await side.close()
    const entries = await Promise.all(sides.map((side) => verifyOutbox(redis, side)))
    const [lambda, node] = sides as [Side, Side]
    const [lambdaGet, lambdaPut] = latencyMeasurements(lambda, 'info') as [Measurement, Measurement]
    const [nodeGet, nodePut] = latencyMeasurements(node, 'info') as [Measurement, Measurement]
    const ratio = (a: Measurement, b: Measurement) => formatRatio(a.latency.ns.median / b.latency.ns.median)
    const p99 = (a: Measurement, b: Measurement) => formatRatio(a.latency.ns.p99 / b.latency.ns.p99)
    return {
      measurements: [lambdaGet, lambdaPut, nodeGet, nodePut],
      notes: [
        `Lambda ÷ Node server, median latency: GET ${ratio(lambdaGet, nodeGet)}, PUT ${ratio(lambdaPut, nodePut)} (p99: GET ${p99(lambdaGet, nodeGet)}, PUT ${p99(lambdaPut, nodePut)}). Informational, not a target: the Lambda invocation here is a function call in its own process — no socket, no HTTP parsing, no API Gateway — while each Node server request goes through \`fetch\` (undici) and node:http over loopback, client and server on one event loop. On AWS the invocation also pays API Gateway and the Lambda runtime's own hop, which this does not measure.`,
        `Both sides on the same Redis and MariaDB, each with its own key prefix and table, with the outbox as the log (\`log: 'redis'\`): a PUT is answered once its item is in Redis and its entry in the outbox; nothing drains the outbox here. Each GET reads the same item, served from L1 after the first. First request: Lambda ${lambda.firstMs.toFixed(0)} ms (its first invocation builds the engine: connects Redis and MariaDB, creates the table); Node \`startServer\` ${node.firstMs.toFixed(0)} ms before its first request. Verified: every GET answered 200 with the item's exact body, every PUT 200/201 with ack 'logged', and each side's outbox holds one entry per PUT it sent (${entries.map((n) => n.toLocaleString('en-US')).join(' and ')}).`,
      ],
    }
  } finally {
    await Promise.allSettled(sides.map((side) => side.close()))
    for (const side of sides) {
      await redis.deletePrefix(side.prefix)
      await mysql.dropTable(side.table)
    }
  }
}

export const serverlessEntries: Scenario = {
  id: 'serverless-entries',
  title: 'Serverless entries: bundle size, cold import, Lambda handler latency vs the Node server',
  async run(ctx: BenchContext) {
    const bundlesFile = join(DIST, 'bundles.json')
    const missing = [bundlesFile, ...ENTRIES.map((entry) => join(DIST, entry))].filter((f) => !existsSync(f))
    if (missing.length > 0) {
      return skippedResult(this, `Skipped: ${missing.join(', ')} missing: run \`npm run build\` first.`)
    }
    const bundles = JSON.parse(readFileSync(bundlesFile, 'utf8')) as Bundles

    const { variants, skipped } = await importVariants()
    await runAlternatingRounds(ctx, 'serverless-entries', SPAWNS, variants, async (variant) => {
      const run = await spawnNode(variant.args)
      if (run.code !== 0)
        throw new Error(`serverless-entries: ${variant.label} exited ${run.code}: ${run.stderr}`)
      return { ms: run.ms }
    })
    const [bare, ...entries] = variants as [ImportVariant, ...ImportVariant[]]
    const imports = variants.map((variant) => importMeasurement(variant, bare, bundles))
    const verdicts: Verdict[] = []
    for (const entry of ENTRIES) {
      const size = bundles[`dist/${entry}`]
      const measured = imports[variants.findIndex((variant) => variant.entry === entry)]
      if (size) {
        // An entry that would not import has no measurement; its size verdict still names it.
        const subject = measured ?? { ...imports[0]!, label: `dist/${entry}` }
        verdicts.push(
          absoluteVerdict(subject, size.staticBytes, SIZE_BOUND, {
            unit: 'bytes',
            atLeast: false,
            name: `size ${entry}`,
          }),
        )
      }
      if (measured) {
        verdicts.push(
          absoluteVerdict(measured, measured.latency.ns.median / 1e6, IMPORT_TARGET_MS, {
            unit: 'ms median cold import',
            atLeast: false,
            name: `cold import ${entry}`,
          }),
        )
      }
    }

    const services = tiersOrSkip(ctx)
    const latency =
      services.skip === undefined
        ? await handlerLatency(ctx, services.redis, services.mysql)
        : { measurements: [], notes: [`Handler latency not measured: ${services.skip}`] }
    const perRound = Math.ceil(REQUESTS / ROUNDS)
    return {
      id: this.id,
      title: this.title,
      setup: [
        `Sizes: \`staticBytes\` of each entry in dist/bundles.json (written by \`npm run build\`: the entry plus every chunk it imports statically; chunks imported on first use, e.g. the ioredis and mysql2 drivers, not counted), against ${SIZE_BOUND.toLocaleString('en-US')} bytes (1 MiB) each.`,
        `Cold import: ${SPAWNS} fresh processes per entry, \`node -e "await import('<file URL>')"\` with only PATH in the environment (no loader, no NODE_OPTIONS), timed from \`spawn\` until the process exited (Node's own start included; the file is in the page cache after the first); the baseline is a bare \`node -e "0"\` spawned the same way; one of each per round, the order alternating; the figure is the median (target ≤ ${IMPORT_TARGET_MS} ms), and each entry's median minus the bare one's is in its detail. No import does I/O: the entries build their engine on the first invocation. ${entries.length} of ${ENTRIES.length} entries imported in plain Node.`,
        `Handler latency: dist/lambda/api.mjs imported in a child process of its own with only \`SYNC_REDIS_URL\`, \`SYNC_SQL_URL\`, \`SYNC_SQL_TABLE\` (a fresh table), \`SYNC_REDIS_PREFIX\` (a fresh prefix), \`SYNC_API_TOKENS\` and \`SYNC_LOG_LEVEL=warn\` in its environment; it calls \`handler(event, context)\` with API Gateway v2 events (test/contract/lambda-process.ts \`httpEvent\`, Authorization: Bearer) one at a time and times each call with \`process.hrtime\` in that process. Against it, \`startServer({ config: { redisUrl, sqlUrl, sqlTable, redisPrefix, port: 0, apiTokens, logLevel: 'warn', log: 'redis' } })\` in this process, each request a \`fetch\` to 127.0.0.1 timed until its body was read. Per side: the item written, ${WARMUP} GETs and ${WARMUP} PUTs of warm-up, then ${ROUNDS} rounds of ${perRound.toLocaleString('en-US')} GETs of that item and ${perRound.toLocaleString('en-US')} PUTs of a ${ITEM_BYTES.toLocaleString('en-US')}-byte JSON body, each to an id of its own, the side order alternating.`,
      ],
      measurements: [...imports, ...latency.measurements],
      verdicts,
      notes: [...skipped, ...latency.notes],
    }
  },
}
