import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { type SyncConfigInput, SyncEngine } from '@sync-engine/core'
import { openRedisStore } from '@sync-engine/redis-ioredis'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { makeTempDir } from '../support/temp-dir.ts'
import { describeWithBinaries } from './support/binaries.ts'
import { checkFinalState, checkHistory, checkNoPhantoms } from './support/check-history.ts'
import { drain, recovered } from './support/drain.ts'
import { engineTarget } from './support/engine-target.ts'
import { readFinalState } from './support/final-state.ts'
import { History } from './support/history.ts'
import { listLiveIds, readL3State } from './support/l3-state.ts'
import { startLoad } from './support/load.ts'
import { OwnRedis } from './support/own-redis.ts'
import { describeRun, describeViolations } from './support/report.ts'

/** How long Redis stays down (or frozen). */
const OUTAGE_MS = 3_000

/**
 * L2 dies under write load: an engine in this process on its own
 * redis-server (L2) and a SQLite file (L3), writes acknowledged at `stored`, concurrent readers.
 * Redis is killed -9 (it comes back empty) or frozen with SIGSTOP (it comes back with its old
 * copies) mid-load. Every acknowledged write must be read back at its version: while Redis is
 * down, after it returned and the engine recovered, from a fresh engine that reads L2 first (an L2
 * copy older than an acknowledged write would show there), and from L3 itself.
 */
describeWithBinaries('chaos: Redis (L2) killed under write load', ['redis-server'], () => {
  const dir = makeTempDir('chaos-redis-kill')
  let redis: OwnRedis | undefined
  const engines: SyncEngine[] = []
  let runs = 0

  beforeAll(async () => {
    redis = await OwnRedis.start()
  })

  afterEach(async () => {
    await Promise.allSettled(engines.splice(0).map((engine) => engine.shutdown()))
    await redis?.ensureRunning()
  })

  afterAll(async () => {
    try {
      await redis?.dispose()
    } finally {
      dir.remove()
    }
  })

  const open = async (path: string, prefix: string, config: SyncConfigInput = {}) => {
    // Short deadlines: a dead Redis costs each call half a second, not the default two.
    const connection = {
      url: redis!.url,
      commandTimeoutMs: 500,
      connectTimeoutMs: 500,
      maxReconnectDelayMs: 200,
    }
    const l2 = await openRedisStore(connection, { prefix })
    const engine = new SyncEngine({
      l2,
      l3: createSqliteStore({ path }),
      config: { redisPrefix: prefix, ...config },
    })
    engines.push(engine)
    await engine.start()
    return engine
  }

  interface Scenario {
    readonly writers: number
    readonly idsPerWriter: number
    readonly readers: number
    readonly readAfterWrite: boolean
    /** kill: kill -9 and restart (L2 comes back empty); pause: SIGSTOP then SIGCONT (L2 keeps its data). */
    readonly fault: 'kill' | 'pause'
  }

  const run = async (scenario: Scenario) => {
    const name = `r${++runs}-${scenario.fault}`
    const path = join(dir.path, `${name}.db`)
    const prefix = `chaos-${name}:`
    const engine = await open(path, prefix)
    const history = new History()
    const loadOptions = {
      target: engineTarget(engine, 'stored'),
      history,
      writers: scenario.writers,
      idsPerWriter: scenario.idsPerWriter,
      readers: scenario.readers,
      readAfterWrite: scenario.readAfterWrite,
      idPrefix: `${name}-`,
    } as const
    let whileDown: ReturnType<typeof checkHistory>
    const duringFault = startLoad(loadOptions)
    try {
      await duringFault.ackedMore(200, 'acknowledged writes before the fault')
      history.mark(`redis ${scenario.fault}`)
      if (scenario.fault === 'kill') await redis!.kill9()
      else redis!.pause()
      // Long enough for the engine to notice the outage and, with a breaker, to write around L2
      // (a fixed outage, not a measurement), with some writes completed in it.
      await Promise.all([
        sleep(OUTAGE_MS),
        duringFault.completedMore(4 * scenario.writers, 'writes while Redis is down'),
      ])
      await duringFault.stop()
      // Quiet, Redis still down: reads must skip it and serve every acknowledged write.
      whileDown = checkHistory(
        history.ops,
        await readFinalState(history.writtenIds(), engineTarget(engine).get),
      )
    } finally {
      await duringFault.stop()
    }
    if (scenario.fault === 'kill') await redis!.start()
    else redis!.resume()
    history.mark('redis back')
    // Half the writers go on (same ids as before); the other half's ids keep the states written
    // around the fault, so later writes cannot hide a write lost there.
    const afterFault = startLoad({ ...loadOptions, writers: scenario.writers / 2 })
    try {
      await afterFault.ackedMore(200, 'acknowledged writes after Redis came back')
      await recovered(engine)
      history.mark('engine recovered')
    } finally {
      await afterFault.stop()
    }
    const seeds = `seeds ${duringFault.seed}, ${afterFault.seed}`
    await drain(engine)

    const ids = history.writtenIds()
    const live = checkHistory(history.ops, await readFinalState(ids, engineTarget(engine).get))
    const health = await engine.health()
    await engine.shutdown()
    const fresh = await open(path, prefix)
    const throughL2 = checkFinalState(history.ops, await readFinalState(ids, engineTarget(fresh).get))
    const l3 = createSqliteStore({ path })
    await l3.init()
    let inL3: ReturnType<typeof checkFinalState>
    try {
      inL3 = [
        ...checkFinalState(history.ops, await readL3State(l3, ids)),
        ...checkNoPhantoms(history.ops, await listLiveIds(l3)),
      ]
    } finally {
      await l3.close()
    }
    console.log(
      `${describeRun(`redis-${scenario.fault} (${scenario.writers} writers)`, history.summary())}; ` +
        `L2 reads failed ${health.l2.failedReads}, corrupt ${health.l2.corruptReads}`,
    )
    expect(history.summary().acked).toBeGreaterThan(0)
    expect(describeViolations(whileDown, history), `live engine while Redis is down, ${seeds}`).toBe(
      'no violations',
    )
    expect(describeViolations(live, history), `live engine, ${seeds}`).toBe('no violations')
    expect(describeViolations(throughL2, history), `fresh engine reading L2 first, ${seeds}`).toBe(
      'no violations',
    )
    expect(describeViolations(inL3, history), `L3, ${seeds}`).toBe('no violations')
  }

  it(
    '32 concurrent writers while Redis dies (kill -9) and comes back: writes and reads stay consistent',
    () => run({ writers: 32, idsPerWriter: 2, readers: 4, readAfterWrite: true, fault: 'kill' }),
    60_000,
  )

  it(
    'Redis frozen (SIGSTOP) mid-load keeps its old copies: none is served over an acknowledged write',
    () => run({ writers: 8, idsPerWriter: 4, readers: 2, readAfterWrite: true, fault: 'pause' }),
    60_000,
  )
})
