import { type Logger, silentLogger } from '../engine/logger.ts'
import type { L2Store } from '../l2/l2-store.ts'
import type { L3Store } from '../l3/l3-store.ts'
import { EngineMetrics } from '../metrics/engine-metrics.ts'
import { defaultPlatform, type Platform } from '../platform/platform.ts'
import { CircuitBreaker } from '../resilience/circuit-breaker.ts'
import { GuardedCall } from '../tiers/guarded-call.ts'
import { L2Tier } from '../tiers/l2-tier.ts'
import { L3Tier } from '../tiers/l3-tier.ts'
import { TierWriter } from '../tiers/tier-writer.ts'
import type { ParkedWrites } from './parked-writes.ts'
import type { PendingWrite, SettledWrite, WalEntry, WriteAheadLog } from './write-ahead-log.ts'

/** Log entries per drain page: full batches, not a trickle (the original drained 20 a second). */
export const DRAIN_BATCH = 5_000

export interface DrainOptions {
  readonly log: WriteAheadLog
  /** The tiers to drain into: a writer (the engine's), or the stores themselves (a flusher's). */
  readonly writer?: TierWriter
  readonly l2?: L2Store
  readonly l3?: L3Store
  /** Writes this process parked and still holds (the drain then reads only the log's keys). */
  readonly parked?: ParkedWrites
  /** Called with every version drained (the engine's clock moves past them). */
  readonly observeVersion?: (version: number) => void
  /**
   * Called with the entries of each page that L3 found superseded by a newer stored version (id →
   * the version stored, 0 when unknown), before they leave the log. Asks L3 which they were.
   */
  readonly onSuperseded?: (
    superseded: ReadonlyMap<string, { write: PendingWrite; current: number }>,
  ) => Promise<void>
  /** Asked before each page: true stops the drain there (e.g. a Lambda running out of time). */
  readonly shouldStop?: () => boolean
  readonly logger?: Logger
  readonly platform?: Platform
}

export interface DrainReport {
  /** Entries stored (or settled: superseded, refused) and removed from the log. */
  readonly drained: number
  /** Entries kept because a tier could not take them yet (cache-only writes L2 missed). */
  readonly kept: number
  /** Whether the drain stopped early (`shouldStop`) with entries left. */
  readonly stopped: boolean
  /** Entries L3 found superseded by a newer stored version (counted only with `onSuperseded`). */
  readonly superseded: number
  /** Log entries removed: every entry read when all were settled (older entries of an id included). */
  readonly removed: number
  /** Writes L3 refused for good (data it cannot store): they leave the log, counted and logged. */
  readonly rejected: number
}

/** A page of the log: its entries, the seq it reaches (0: nothing after the cursor), and whether more may follow. */
interface DrainPage {
  readonly entries: readonly WalEntry[]
  readonly lastSeq: number
  readonly full: boolean
}

const EMPTY_PAGE: DrainPage = { entries: [], lastSeq: 0, full: false }

/**
 * Drains the log into the tiers in full, version-guarded batches, oldest first, and removes what
 * they settled: an old logged copy never overwrites a newer stored write. It needs no engine —
 * this is what a scheduled flusher calls on serverless — and throws at the first L3 failure (the
 * rest stays in the log, for the next drain).
 *
 * Two pages are in flight once L3's breaker is closed (the first page is the probe and goes
 * alone): each is its own transaction with rows in id order, so two cannot deadlock, and the
 * version guard decides between them. The next page is read while L3 stores the current one, and
 * the log is trimmed once at the end (`removeThrough`) when everything read was settled.
 */
export async function drainOnce(options: DrainOptions): Promise<DrainReport> {
  const { log } = options
  const logger = options.logger ?? silentLogger
  const platform = options.platform ?? defaultPlatform
  const writer = options.writer ?? (await connectedWriter(options, logger, platform))
  const settled: SettledWrite[] = []
  let drained = 0
  let kept = 0
  let superseded = 0
  let rejected = 0
  let read = 0
  let throughSeq = 0
  let stopped = false
  let previous: Promise<void> | undefined
  const step = async (entries: readonly WalEntry[]) => {
    read += entries.length
    const batch = newestPerId(entries, options.observeVersion)
    const report = options.onSuperseded
    const result = await writer.write(batch, { drain: true, reportSuperseded: report !== undefined })
    if (report && result.superseded.size > 0) {
      const found = new Map<string, { write: PendingWrite; current: number }>()
      for (const write of batch) {
        const current = result.superseded.get(write.id)
        // At its own version in L3 already (a drain that ran before it was removed): stored, not superseded.
        if (current !== undefined && current !== write.version) found.set(write.id, { write, current })
      }
      if (found.size > 0) await report(found)
      superseded += found.size
    }
    rejected += result.rejected.size
    kept += batch.length - result.settled.length
    for (const write of result.settled) {
      settled.push(write)
      options.parked?.clearUpTo(write.id, write.version)
    }
    drained += result.settled.length
  }
  let page = await readPage(log, 0, options.parked)
  try {
    while (page.lastSeq > 0) {
      throughSeq = page.lastSeq
      // Until the breaker has closed, the step in flight is its probe: a second would be refused.
      if (previous && !(writer.l3?.guard.closed ?? true)) {
        await previous
        previous = undefined
      }
      const current = step(page.entries)
      current.catch(() => {}) // awaited below; this only keeps a failure from going unobserved meanwhile
      stopped = page.full && (options.shouldStop?.() ?? false)
      const next =
        page.full && !stopped
          ? later(platform, () => readPage(log, throughSeq, options.parked))
          : Promise.resolve(EMPTY_PAGE)
      if (previous) await previous
      previous = current
      page = await next
      if (page.lastSeq > 0) logger.info({ drained }, 'draining the write-ahead log')
    }
    await previous
  } catch (error) {
    await previous?.catch(() => {})
    throw error
  }
  // Every entry up to the last one read was settled (entries appended meanwhile come after it):
  // one range delete. Otherwise by id, keeping the entries that still wait for L2.
  if (kept === 0 && throughSeq > 0) await log.removeThrough(throughSeq)
  else if (settled.length > 0) await log.remove(settled)
  if (drained > 0) logger.info({ drained, kept }, 'write-ahead log drained')
  return { drained, kept, stopped, superseded, rejected, removed: kept === 0 ? read : settled.length }
}

/** The newest entry of each id; the logged writes themselves go to the tiers (no copies). */
function newestPerId(entries: readonly WalEntry[], observe?: (version: number) => void): PendingWrite[] {
  const newest = new Map<string, PendingWrite>()
  for (const { write } of entries) {
    observe?.(write.version)
    const held = newest.get(write.id)
    if (held === undefined || held.version < write.version) newest.set(write.id, write)
  }
  return [...newest.values()]
}

/**
 * The next page after `afterSeq`. While parked writes are held in memory, only the page's keys
 * are read, and just the entries not held (or not held at that version) are read in full; so what
 * is stored is always exactly what the log holds.
 */
async function readPage(
  log: WriteAheadLog,
  afterSeq: number,
  parked: ParkedWrites | undefined,
): Promise<DrainPage> {
  if (!log.keys || !log.readSeqs || parked === undefined || parked.heldCount === 0) {
    const entries = await log.read(afterSeq, DRAIN_BATCH)
    return { entries, lastSeq: entries.at(-1)?.seq ?? 0, full: entries.length === DRAIN_BATCH }
  }
  const keys = await log.keys(afterSeq, DRAIN_BATCH)
  const entries: WalEntry[] = []
  const missing: number[] = []
  for (const { seq, id, version } of keys) {
    const write = parked.held(id, version)
    if (write !== undefined) entries.push({ seq, write })
    else missing.push(seq)
  }
  if (missing.length > 0) {
    // Entries removed since the keys were read were settled meanwhile: they do not come back.
    entries.push(...(await log.readSeqs(missing)))
    entries.sort((a, b) => a.seq - b.seq)
  }
  return { entries, lastSeq: keys.at(-1)?.seq ?? 0, full: keys.length === DRAIN_BATCH }
}

/** Runs `work` in a later macrotask (after pending I/O callbacks and sends). */
function later<T>(platform: Platform, work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    platform.setTimer(() => work().then(resolve, reject), 0)
  })
}

/** A writer over bare stores, each behind a breaker of its own and connected (a flusher has no engine). */
export async function connectedWriter(
  options: Pick<DrainOptions, 'l2' | 'l3'>,
  logger: Logger = silentLogger,
  platform: Platform = defaultPlatform,
): Promise<TierWriter> {
  const metrics = new EngineMetrics()
  const guard = (tier: 'l2' | 'l3') => new GuardedCall(new CircuitBreaker(tier, platform), metrics, platform)
  const l2 = options.l2 ? new L2Tier(options.l2, guard('l2'), logger) : undefined
  const l3 = options.l3
    ? new L3Tier(options.l3, guard('l3'), {
        afterInit: async () => {},
        maxPayloadBytes: () => Number.POSITIVE_INFINITY,
      })
    : undefined
  await l3?.connection.ensure()
  await l2?.connection.ensure()
  return new TierWriter({ l2, l3, logger, now: platform.now })
}
