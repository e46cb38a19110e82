import { FlushError } from '../errors.ts'
import { severity } from '../pressure/backpressure-level.ts'
import { asSyncError, describe } from '../write/write-failures.ts'
import type { EngineParts } from './engine-parts.ts'
import { degradedTiers } from './engine-report.ts'
import type { EngineState } from './engine-state.ts'

const SHUTDOWN_FLUSH_ATTEMPTS = 3

/**
 * `created → connecting → draining-wal → warming → ready`: opens the log and ties it to its L3,
 * connects L3 and L2 (an unreachable one degrades the engine, a permanent refusal fails the
 * start), replays what an earlier process logged but did not store, builds the existence filter.
 * On failure everything opened is closed again and the state is `failed`.
 */
export async function startEngine(parts: EngineParts, setState: (state: EngineState) => void): Promise<void> {
  const { log, l2, l3, logger, config } = parts
  try {
    setState('connecting')
    if (log) {
      await log.log.open()
      // Before anything is replayed: a log written for another L3 must not drain into this one.
      if (l3) await log.log.bind(l3.store.identity)
    }
    if (
      l3 &&
      !(await l3.connection.atStart(
        !config().requireL3AtStart && (log !== undefined || parts.outbox !== undefined),
      ))
    ) {
      logger.warn(
        {},
        'L3 unreachable at start: starting degraded, writes are parked in the write-ahead log (or the outbox)',
      )
    }
    if (l2 && !(await l2.connection.atStart(true))) {
      logger.warn({}, 'L2 unreachable at start: starting degraded, reads go to L3 and L2 is connected later')
    }
    // RediSearch needs the server's capabilities, known once L2 is connected; a server without them fails the start.
    if (config().searchBackend === 'redis' && (l2 === undefined || l2.connection.connected)) {
      await parts.redisIndexes.open()
    }
    parts.hooks.searchOnConnect = true
    setState('draining-wal')
    if (log) await replayLog(parts)
    setState('warming')
    if (l3?.connected && config().l3SingleWriter) await parts.rebuildFilter()
    parts.hooks.filterOnConnect = true
  } catch (error) {
    setState('failed')
    await closeStores(parts)
    throw asSyncError(error)
  }
}

/**
 * Writes an earlier process logged but did not store go to their tiers now (version-guarded: an
 * old logged copy never overwrites a newer stored write). What cannot be stored yet (L3
 * unreachable) stays in the log, parked, and readable.
 */
async function replayLog(parts: EngineParts): Promise<void> {
  const log = parts.log!
  const { entries } = log.log.stats()
  if (entries === 0) return
  parts.logger.info({ entries }, 'replaying the write-ahead log')
  if (parts.l3 === undefined || parts.l3.connected) {
    try {
      await parts.maintenance.drain()
    } catch (error) {
      parts.logger.warn({ err: describe(error) }, 'log replay stopped; the rest stays parked')
    }
  }
  await log.indexParked(parts.clock)
}

/**
 * `stopping → stopped`: flushes everything pending (a few attempts), removes settled writes from
 * the log and closes the stores, the log last. Pending writes that could not be flushed make it
 * `failed` with a `FlushError` (with a log they are parked there, durably, instead).
 */
export async function stopEngine(parts: EngineParts, setState: (state: EngineState) => void): Promise<void> {
  setState('stopping')
  parts.queue.close()
  // With a log, what L3 cannot take now is parked there (the next start replays it), not lost.
  parts.flusher.parkOnAnyFailure = true
  await parts.timer?.stop()
  let unflushed = 0
  for (let attempt = 0; attempt < SHUTDOWN_FLUSH_ATTEMPTS && parts.queue.depth > 0; attempt++) {
    // Without a log, memory is the writes' only copy: try the tiers again even if a breaker is
    // open (with a log, an open L3 breaker parks the writes there, durably).
    if (!parts.log) for (const breaker of Object.values(parts.breakers)) breaker.reset()
    const outcome = await parts.queue.flush()
    unflushed = outcome.failed.size
  }
  await parts.log?.removeSettled()
  await closeStores(parts)
  if (parts.queue.depth > 0) {
    setState('failed')
    throw new FlushError(`shutdown could not flush ${Math.max(unflushed, parts.queue.depth)} pending writes`)
  }
  setState('stopped')
}

/** Closes every store; the log last: writes parked during the shutdown flush are in it. */
export async function closeStores(parts: EngineParts): Promise<void> {
  const { logger } = parts
  await parts.l3?.store.close().catch((error) => logger.error({ err: describe(error) }, 'closing L3 failed'))
  await parts.l2?.store.close().catch((error) => logger.error({ err: describe(error) }, 'closing L2 failed'))
  await parts.log?.log
    .close()
    .catch((error) => logger.error({ err: describe(error) }, 'closing the log failed'))
}

/**
 * Once `ready`: the engine's gauges start observing its parts, and the log says which tiers it
 * runs on. Returns the function that detaches the gauges.
 */
export function announceReady(parts: EngineParts): () => void {
  const detach = parts.metrics.observe({
    l1: () => parts.l1,
    queue: () => parts.queue,
    wal: () => parts.log?.log.stats() ?? parts.outbox?.outbox.stats(),
    filter: () => parts.filter.filter,
    breakers: () =>
      [parts.l2 && parts.breakers.l2.stats(), parts.l3 && parts.breakers.l3.stats()].filter(
        (stats) => stats !== undefined,
      ),
    backpressureLevel: () => severity(parts.pressure.level),
    l2Reads: () => ({ corruptReads: parts.l2?.corruptReads ?? 0, failedReads: parts.l2?.failedReads ?? 0 }),
  })
  parts.timer?.poke()
  parts.logger.info(
    {
      l2: parts.l2?.store.driver ?? 'none',
      l3: parts.l3?.store.driver ?? 'none',
      wal: parts.log?.log.driver ?? parts.outbox?.outbox.driver ?? 'none',
      degraded: degradedTiers(parts),
    },
    'engine ready',
  )
  return detach
}
