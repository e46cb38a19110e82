import { join } from 'node:path'
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon'
import type { Measurement, Role } from './report.ts'
import { median, summarizeSorted } from './stats.ts'

/** Concurrent connections of every HTTP round. */
export const CONNECTIONS = 32
/** Seconds per measured round; the warm-up round of each side runs `WARMUP_SECONDS`. */
export const ROUND_SECONDS = 5
export const WARMUP_SECONDS = 3
/** Room for this many responses per second of a round in the latency buffer. */
const MAX_RATE = 200_000

const CLIENT_DIR = join(import.meta.dirname, 'http-client')
const LATENCY_RECORDER = join(CLIENT_DIR, 'latency-recorder.cjs')
const DISTINCT_ITEM_PATH = join(CLIENT_DIR, 'distinct-item-path.cjs')

export interface LoadOptions {
  /** The server's base URL (`http://127.0.0.1:<port>`). */
  readonly url: string
  readonly method: 'GET' | 'PUT'
  /** A fixed path, or `{ idPrefix }`: `/v1/items/<idPrefix><n>`, n = 0, 1, 2… per request. */
  readonly path: string | { readonly idPrefix: string }
  readonly headers?: Record<string, string>
  /** A string: a Buffer reaches autocannon's worker as a plain Uint8Array, which it refuses. */
  readonly body?: string
  /** Every response body must equal this (else it counts in `mismatches`). */
  readonly expectBody?: string
  readonly seconds: number
}

/** One autocannon run: what `runAlternatingRounds` collects per round. */
export interface LoadResult {
  /** The run's duration as autocannon measured it. */
  readonly ms: number
  /** Completed requests. */
  readonly requests: number
  /** Requests written (completed, plus those in flight when the run stopped). */
  readonly sent: number
  readonly rps: number
  readonly statusCounts: Readonly<Record<string, number>>
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
  readonly mismatches: number
  /** Every response's latency, ms (as long as autocannon timed it, from write to last byte). */
  readonly latencyMs: Float64Array
}

/**
 * `CONNECTIONS` connections, pipelining 1, for `seconds`, from one autocannon worker thread: the
 * client does not share the event loop of the server it loads (both servers run on this process's
 * main thread). Per-response latencies are recorded in the worker (`http-client/latency-recorder.cjs`).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const capacity = Math.ceil(options.seconds * MAX_RATE)
  const shared = new SharedArrayBuffer(8 + capacity * 8)
  const distinct = typeof options.path !== 'string'
  const request: AutocannonRequest = { method: options.method }
  if (options.headers) request.headers = options.headers
  if (options.body) request.body = options.body
  // autocannon refuses `expectBody` with `requests`: a fixed path needs no per-request setup.
  const shape = distinct
    ? {
        requests: [{ ...request, setupRequest: DISTINCT_ITEM_PATH }],
        initialContext: { idPrefix: (options.path as { idPrefix: string }).idPrefix },
      }
    : request
  const result: AutocannonResult = await autocannon({
    url: `${options.url}${distinct ? '/' : options.path}`,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: options.seconds,
    workers: 1,
    setupClient: LATENCY_RECORDER,
    ...shape,
    ...(options.expectBody !== undefined ? { expectBody: options.expectBody } : {}),
    benchLatencies: shared,
  })
  const recorded = new Int32Array(shared, 0, 1)[0]!
  if (recorded > capacity) throw new Error(`http load: ${recorded} responses, room for ${capacity} latencies`)
  const latencyMs = new Float64Array(shared, 8, recorded).slice()
  const statusCounts: Record<string, number> = {}
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) statusCounts[status] = count
  return {
    ms: result.duration * 1000,
    requests: result.requests.total,
    sent: result.requests.sent,
    rps: result.requests.total / result.duration,
    statusCounts,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches,
    latencyMs,
  }
}

/** Throws unless every response had `status` (no errors, timeouts, mismatches) and each was timed. */
export function assertClean(label: string, result: LoadResult, status: number): void {
  const other = Object.entries(result.statusCounts).filter(([code]) => Number(code) !== status)
  const problems = [
    result.requests === 0 ? 'no request completed' : '',
    result.non2xx > 0 ? `${result.non2xx} non-2xx` : '',
    other.length > 0 ? `statuses ${other.map(([code, n]) => `${code}×${n}`).join(', ')}` : '',
    result.errors > 0 ? `${result.errors} errors` : '',
    result.timeouts > 0 ? `${result.timeouts} timeouts` : '',
    result.mismatches > 0 ? `${result.mismatches} bodies differ from the expected one` : '',
    result.latencyMs.length !== result.requests
      ? `${result.latencyMs.length} latencies recorded for ${result.requests} responses`
      : '',
  ].filter(Boolean)
  if (problems.length > 0) throw new Error(`${label}: ${problems.join('; ')}`)
}

/**
 * A side's rounds as a report row: throughput is the median round's requests/s; latency is over
 * every response of every round (per request, 32 in flight).
 */
export function loadMeasurement(
  label: string,
  role: Role,
  rounds: readonly LoadResult[],
  detail?: string,
): Measurement {
  const all = new Float64Array(rounds.reduce((n, r) => n + r.latencyMs.length, 0))
  let at = 0
  for (const round of rounds) {
    all.set(round.latencyMs, at)
    at += round.latencyMs.length
  }
  all.sort()
  const ns = summarizeSorted(all.map((ms) => ms * 1e6))
  const rps = rounds.map((r) => r.rps)
  const perRound = `requests/s per round: ${rps.map((r) => Math.round(r).toLocaleString('en-US')).join(', ')}`
  return {
    label,
    role,
    latency: { sampleOf: `per request (${CONNECTIONS} in flight), all rounds`, ns },
    throughput: median(rps),
    unit: 'requests/s',
    detail: detail ? `${detail}; ${perRound}` : perRound,
  }
}
