import { randomBytes } from 'node:crypto'
import { freePort } from '../../integration/redis/own-redis-server.ts'
import { makeTempDir } from '../../support/temp-dir.ts'
import { checkHistory, type RecoveryCounts, recoveryCounts, type Violation } from './check-history.ts'
import { EngineProcess } from './engine-process.ts'
import { readFinalState } from './final-state.ts'
import { History, type HistorySummary } from './history.ts'
import { httpTarget } from './http-target.ts'
import { type LoadOptions, startLoad } from './load.ts'
import type { Exit } from './owned-process.ts'
import { describeRun } from './report.ts'

export interface EngineKillOptions {
  /** Concurrent HTTP writers (default 16). */
  readonly writers?: number
  readonly idsPerWriter?: number
  /** Writes acknowledged before the kill (default 300). */
  readonly ackedBeforeKill?: number
  /** Writes acknowledged by the restarted server before the last checks (default 150). */
  readonly ackedAfterRestart?: number
  readonly log?: (line: string) => void
}

export interface EngineKillResult {
  /** Checked over HTTP right after the restart, before any new write could hide a lost one. */
  readonly afterKill: readonly Violation[]
  /** …after the restarted server took more writes to the same ids. */
  readonly afterMoreWrites: readonly Violation[]
  /** …after a graceful stop (SIGTERM) and another start. */
  readonly afterGracefulRestart: readonly Violation[]
  /** Counted right after the restart: what the kill could have lost. */
  readonly counts: RecoveryCounts
  readonly summary: HistorySummary
  /** How the graceful stop ended: code 0 expected. */
  readonly gracefulExit: Exit
  readonly seeds: readonly number[]
}

/** Writes acknowledged at `logged` or `stored` must survive a kill -9; `queued` ones may be lost. */
const SURVIVES_KILL = { durableAcks: ['logged', 'stored'] as const }

/**
 * The engine as a child process serving HTTP (SQLite L3 in its data directory, default ack
 * `logged`), concurrent HTTP writers, kill -9 mid-load, a restart on the same data directory, and
 * the history checked over HTTP at once — then again after more writes, and after a graceful stop
 * and start. Shared by `engine-kill.test.ts` and `replay-engine-kill.ts`.
 */
export async function runEngineKillScenario(options: EngineKillOptions = {}): Promise<EngineKillResult> {
  const log = options.log ?? (() => {})
  const dir = makeTempDir('chaos-engine-kill')
  const server = new EngineProcess({
    dataDir: dir.path,
    port: await freePort(),
    env: { SYNC_DEFAULT_ACK: 'logged' },
  })
  try {
    await server.start()
    log(`engine pid ${server.pid} on ${server.url}, data in ${dir.path}`)
    const history = new History()
    const target = httpTarget({ baseUrl: () => server.url, defaultAck: 'logged' })
    const loadOptions: LoadOptions = {
      target,
      history,
      writers: options.writers ?? 16,
      idsPerWriter: options.idsPerWriter ?? 4,
      idPrefix: `kill-${randomBytes(3).toString('hex')}-`,
    }
    const check = async () => {
      const states = await readFinalState(history.writtenIds(), (id) => target.get(id))
      return { states, violations: checkHistory(history.ops, states, SURVIVES_KILL) }
    }

    // Phase 1: load, kill -9 in the middle of it; requests in flight die with the process.
    const beforeKill = startLoad(loadOptions)
    try {
      await beforeKill.ackedMore(options.ackedBeforeKill ?? 300, 'acknowledged writes before the kill')
      const exit = await server.kill9()
      log(`kill -9 engine (exit signal ${exit.signal}) after ${history.ackedWrites} acknowledged writes`)
    } finally {
      await beforeKill.stop()
    }
    await server.start()
    log(`engine restarted, pid ${server.pid}`)
    const afterKill = await check()
    const counts = recoveryCounts(history.ops, afterKill.states, SURVIVES_KILL)
    log(describeRun('engine-kill', history.summary(), counts))

    // Phase 2: the restarted server takes writes to the same ids (versions must keep rising).
    const afterRestart = startLoad(loadOptions)
    try {
      await afterRestart.ackedMore(options.ackedAfterRestart ?? 150, 'acknowledged writes after the restart')
    } finally {
      await afterRestart.stop()
    }
    const afterMoreWrites = await check()

    // A graceful stop flushes everything; the next start must serve the same states.
    const gracefulExit = await server.stop()
    await server.start()
    const afterGracefulRestart = await check()
    await server.stop()
    return {
      afterKill: afterKill.violations,
      afterMoreWrites: afterMoreWrites.violations,
      afterGracefulRestart: afterGracefulRestart.violations,
      counts,
      summary: history.summary(),
      gracefulExit,
      seeds: [beforeKill.seed, afterRestart.seed],
    }
  } catch (error) {
    throw new Error(`${(error as Error).message}\nengine output:\n${server.output}`, { cause: error })
  } finally {
    await server.dispose()
    dir.remove()
  }
}
