import { Hono } from 'hono'
import { runAlternatingRounds } from '../alternating-rounds.ts'
import { collectGarbage } from '../fixtures.ts'
import {
  assertClean,
  CONNECTIONS,
  type LoadResult,
  loadMeasurement,
  ROUND_SECONDS,
  runLoad,
  WARMUP_SECONDS,
} from '../http-load.ts'
import { type EngineServer, jsonOfBytes, startBareServer, startEngineServer } from '../http-servers.ts'
import { type BenchContext, type Role, type Scenario, verdict } from '../report.ts'

const ROUNDS = 5
const ITEM_BYTES = 1024
const ITEM_ID = 'bench-item'
const PATH = `/v1/items/${ITEM_ID}`
const TARGET = 0.7

interface Variant {
  readonly label: string
  readonly role: Role
  readonly url: string
  readonly results: LoadResult[]
}

/** The item goes in with one PUT and comes back once (writes go around L1: the first read admits it). */
async function loadItem(engine: EngineServer, body: string): Promise<void> {
  const put = await fetch(`${engine.url}${PATH}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body,
  })
  // 200 or 201: whether a PUT created its item is known only when the write says so without I/O.
  if (put.status !== 200 && put.status !== 201)
    throw new Error(`http-get: setup PUT answered ${put.status}: ${await put.text()}`)
  await engine.server.engine.flush()
  const get = await fetch(`${engine.url}${PATH}`)
  const text = await get.text()
  if (get.status !== 200 || text !== body) throw new Error(`http-get: setup GET answered ${get.status}`)
  const health = await engine.server.engine.health()
  if (health.l1.items !== 1)
    throw new Error(`http-get: L1 holds ${health.l1.items} items after the first GET`)
}

/** L1 still holds the one item, never evicted and not expiring: every GET of the run was an L1 hit. */
async function checkL1(engine: EngineServer): Promise<string> {
  const { l1, queue } = await engine.server.engine.health()
  if (l1.items !== 1 || l1.evictions !== 0 || l1.ttlMs !== null || queue.depth !== 0) {
    throw new Error(
      `http-get: L1 holds ${l1.items} items, ${l1.evictions} evictions, ttl ${l1.ttlMs}, queue ${queue.depth}`,
    )
  }
  return `L1 after the run: 1 item, 0 evictions, no TTL (${l1.staleness} staleness: SQLite L3 is not shared)`
}

export const httpGet: Scenario = {
  id: 'http-get',
  title: 'HTTP GET of a 1 KiB item from L1 (Node server)',
  async run(ctx: BenchContext) {
    const body = jsonOfBytes(ITEM_BYTES)
    const bareApp = new Hono()
    bareApp.get('/v1/items/:id', (c) => c.body(body, 200, { 'content-type': 'application/json' }))

    const engine = await startEngineServer(ctx, 'http-get')
    const bare = await startBareServer(bareApp)
    try {
      await loadItem(engine, body)
      const variants: Variant[] = [
        { label: 'engine: startServer, GET /v1/items/:id', role: 'subject', url: engine.url, results: [] },
        { label: 'bare Hono route, fixed 1 KiB JSON', role: 'baseline', url: bare.url, results: [] },
      ]
      const load = async (variant: Variant, seconds: number) => {
        collectGarbage()
        const result = await runLoad({
          url: variant.url,
          method: 'GET',
          path: PATH,
          expectBody: body,
          seconds,
        })
        assertClean(`http-get ${variant.label}`, result, 200)
        return result
      }
      let engineRequests = 2
      let engineRuns = 0
      for (const variant of variants) {
        ctx.log(`http-get: warm-up ${WARMUP_SECONDS} s ${variant.label}`)
        const warm = await load(variant, WARMUP_SECONDS)
        if (variant.role === 'subject') {
          engineRequests += warm.requests
          engineRuns++
        }
      }
      await runAlternatingRounds(ctx, 'http-get', ROUNDS, variants, async (variant) => {
        const result = await load(variant, ROUND_SECONDS)
        if (variant.role === 'subject') {
          engineRequests += result.requests
          engineRuns++
        }
        return result
      })
      const l1Note = await checkL1(engine)
      await engine.close()
      // Requests still in flight when a run stopped were served (and logged) but not counted.
      const lines = engine.requestLines()
      if (lines < engineRequests || lines > engineRequests + CONNECTIONS * engineRuns) {
        throw new Error(`http-get: ${lines} request log lines for ${engineRequests} requests`)
      }
      const [engineRounds, bareRounds] = variants.map((v) => v.results) as [LoadResult[], LoadResult[]]
      const subject = loadMeasurement(
        variants[0]!.label,
        'subject',
        engineRounds,
        `${l1Note}; ${lines.toLocaleString('en-US')} request lines logged for ${engineRequests.toLocaleString('en-US')} counted requests`,
      )
      const baseline = loadMeasurement(variants[1]!.label, 'baseline', bareRounds)
      return {
        id: this.id,
        title: this.title,
        setup: [
          `One JSON item of exactly ${ITEM_BYTES.toLocaleString('en-US')} bytes (a fixtures profile, padded), served to autocannon ${CONNECTIONS} connections, pipelining 1, ${ROUND_SECONDS} s per round; a ${WARMUP_SECONDS} s warm-up run per side first, then ${ROUNDS} rounds with the side order alternating. requests/s = the median round's completed requests ÷ its duration.`,
          `Engine: \`startServer({ config: { port: 0, dataDir }, logger })\` from @sync-engine/node with every other setting at its default (SQLite L3 and the write-ahead log in the temp data dir, no API tokens, logLevel 'info', so the default request log line of every request is part of what is measured). The logger is \`createLogger({ logLevel: 'info' }, pino.destination({ dest: <tmp file>, sync: false, minLength: 4096 }))\`: the same asynchronous 4 KiB-buffered sonic-boom the default stdout destination is, on a file in the run's temp dir so the lines can be counted afterwards. The item is PUT once and read once before timing (writes go around L1; the first read admits it), so every timed GET is an L1 hit.`,
          `Bare baseline: a Hono app with one route, \`app.get('/v1/items/:id', (c) => c.body(json, 200, { 'content-type': 'application/json' }))\` with the same 1 KiB text, served by @hono/node-server \`createAdaptorServer\` on node:http on a port of its own. Both servers run on this process's main thread; autocannon runs in one worker thread (\`workers: 1\`), so the client does not share their event loop.`,
          `Verified: every response 200 with exactly the expected body (autocannon \`expectBody\`: mismatches, non2xx, errors and timeouts all 0); after the rounds, L1 still holds the item (no eviction, no TTL) and the log holds one request line per request served. Latency: each response's time from request write to last byte, recorded in the client worker (autocannon's own histogram keeps whole milliseconds only).`,
        ],
        measurements: [subject, baseline],
        verdicts: [verdict(subject, baseline, TARGET)],
        notes: [
          "Where the time goes (CPU profile, 2026-12-03, `node --cpu-prof` of `startServer` under the same autocannon load, on this machine): before this work the engine ran at 0.19× of the bare route. 24 % of the server thread went to @hono/node-server building a WHATWG Request and AbortSignal, because the body-limit middleware asked every GET for its body; most of the rest was the promise chain (two async middlewares, the async handler, the server's promise path with a close listener per response) and a pino call per request line (A/B in one process: 0.60× of bare at logLevel info against 0.86× at warn). Now an L1 hit is answered synchronously (no Hono middleware, `engine.getCached`), the body limit runs only where a body is read, and request lines are serialised once per event-loop turn (the same A/B, with the changes since: 0.815× at info against 0.821× at warn — the request log now costs under 1 %). What is left on the server thread at ~20,000 requests/s: node:http parsing and writing (`writev` alone 31 % self time, ~15 µs a response against ~10 µs at the bare route — the same system call, but the client thread has to be woken more often at the lower rate), 22 % idle (the autocannon worker shares the two cores), request lines 3 % plus 2 % file writes, Hono routing and context ~5 %, parsing the id 2 %: about 38 µs of CPU a request against the bare route's 17 µs.",
        ],
      }
    } finally {
      await engine.close()
      await bare.close()
    }
  },
}
