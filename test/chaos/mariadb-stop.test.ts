import { setTimeout as sleep } from 'node:timers/promises'
import { type AckLevel, parseConfig, type SyncEngine } from '@sync-engine/core'
import { createEngineFromConfig } from '@sync-engine/node'
import { createMysqlStore } from '@sync-engine/sql-mysql2'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { makeTempDir } from '../support/temp-dir.ts'
import { describeWithBinaries } from './support/binaries.ts'
import { checkFinalState, checkHistory, checkNoPhantoms, type Violation } from './support/check-history.ts'
import { drain, recovered } from './support/drain.ts'
import { engineTarget } from './support/engine-target.ts'
import { readFinalState } from './support/final-state.ts'
import { History } from './support/history.ts'
import { listLiveIds, readL3State } from './support/l3-state.ts'
import { type RunningLoad, startLoad } from './support/load.ts'
import { OwnMariaDb } from './support/own-mariadb.ts'
import { describeRun, describeViolations } from './support/report.ts'

/** How long L3 stays down. A fixed outage, not a measurement: nothing asserts how long anything took. */
const OUTAGE_MS = 10_000

/**
 * L3 (the ground truth) goes away under write load: engines
 * built as the Node server builds them (`createEngineFromConfig`: MariaDB L3, the log in their data
 * directory) run in this process, one at ack `logged` and one at `queued`, side by side. Their
 * private mariadbd stops for 10 s mid-load (or is killed -9 and restarted at once) and starts again
 * on the same data directory. The process never dies, so every acknowledged write at either level
 * must end up in L3, be served by the engine and by a fresh one, and nothing deleted may come back.
 */
describeWithBinaries(
  'chaos: MariaDB (L3) stopped under write load',
  ['mariadbd', 'mariadb-install-db'],
  () => {
    const dir = makeTempDir('chaos-mariadb-stop')
    let mariadb: OwnMariaDb | undefined
    const engines: SyncEngine[] = []
    let runs = 0

    beforeAll(async () => {
      const started = Date.now()
      mariadb = await OwnMariaDb.start('chaos')
      console.log(
        `private mariadbd (pid ${mariadb.pid}, port ${mariadb.port}) installed and up in ${Date.now() - started} ms`,
      )
    }, 60_000)

    afterEach(async () => {
      await Promise.allSettled(engines.splice(0).map((engine) => engine.shutdown()))
      await mariadb?.ensureRunning()
    })

    afterAll(async () => {
      try {
        await mariadb?.dispose()
      } finally {
        dir.remove()
      }
    })

    const open = async (name: string, defaultAck: AckLevel) => {
      const config = parseConfig({
        sqlUrl: mariadb!.url('chaos'),
        sqlTable: `items_${name}`,
        dataDir: `${dir.path}/${name}`,
        defaultAck,
        logLevel: 'silent',
      })
      const engine = await createEngineFromConfig(config)
      engines.push(engine)
      await engine.start()
      return engine
    }

    /** One engine, its loads and its history; each ack level gets its own, side by side. */
    const subject = async (ack: AckLevel) => {
      const name = `m${++runs}_${ack}`
      const engine = await open(name, ack)
      const history = new History()
      const loads: RunningLoad[] = []
      /** A load of `writers` (the first ones: writer w always writes the same ids). */
      const startWriters = (writers: number) => {
        const load = startLoad({
          // No ack option: the engine's configured default applies, as for a caller that names none.
          target: engineTarget(engine),
          history,
          writers,
          idsPerWriter: 4,
          readers: 2,
          readAfterWrite: true,
          // Acks from memory or the log come back at once: a few ms per op keeps the history small.
          thinkMs: 10,
          idPrefix: `${name}-`,
        })
        loads.push(load)
        return load
      }
      const seeds = () => `seeds ${loads.map((load) => load.seed).join(', ')}`
      return { ack, name, engine, history, loads, startWriters, seeds }
    }
    type Subject = Awaited<ReturnType<typeof subject>>

    /** Drains, then judges what the live engine, L3 alone and a fresh engine serve. */
    const verify = async ({ ack, name, engine, history, seeds }: Subject, label: string) => {
      await drain(engine)
      const ids = history.writtenIds()
      const live = checkHistory(history.ops, await readFinalState(ids, engineTarget(engine).get))
      await engine.shutdown()
      // L3 alone, before any other engine could replay anything into it.
      const l3 = createMysqlStore({ url: mariadb!.url('chaos'), table: `items_${name}` })
      let inL3: Violation[]
      try {
        await l3.init()
        inL3 = [
          ...checkFinalState(history.ops, await readL3State(l3, ids)),
          ...checkNoPhantoms(history.ops, await listLiveIds(l3)),
        ]
      } finally {
        await l3.close()
      }
      const fresh = await open(name, ack)
      const restarted = checkFinalState(history.ops, await readFinalState(ids, engineTarget(fresh).get))
      console.log(describeRun(`${label} ack=${ack}`, history.summary()))
      return [
        `${ack}, live engine: ${describeViolations(live, history)}`,
        `${ack}, L3 read directly: ${describeViolations(inL3, history)}`,
        `${ack}, fresh engine: ${describeViolations(restarted, history)}`,
        `(${seeds()})`,
      ].join('\n')
    }

    const WRITERS = 16

    /** Both ack levels under load through one outage: `signal` to our mariadbd, `outageMs` down, restart. */
    const run = async (signal: 'SIGTERM' | 'SIGKILL', outageMs: number) => {
      const subjects = [await subject('logged'), await subject('queued')]
      const each = (step: (s: Subject) => Promise<void>) => Promise.all(subjects.map(step))
      try {
        const aroundOutage = subjects.map((s) => s.startWriters(WRITERS))
        await each((s) => s.loads[0]!.ackedMore(300, `${s.ack}: acknowledged writes before the outage`))
        for (const s of subjects) s.history.mark(`mariadb ${signal}`)
        if (signal === 'SIGTERM') await mariadb!.stop()
        else await mariadb!.kill9()
        for (const s of subjects) s.history.mark('mariadb down')
        await sleep(outageMs)
        // The writes acknowledged during the outage are the last ones on half of the ids: no later
        // write can hide one of them that the drain loses.
        await Promise.all(aroundOutage.map((load) => load.stop()))
        for (const s of subjects) s.history.mark('restarting mariadb')
        await mariadb!.start()
        for (const s of subjects) s.history.mark('mariadb up')
        // The other half is written on while the engines catch up (breaker closing, parked writes
        // draining): newer direct writes and drained older ones meet in L3 there.
        const afterOutage = subjects.map((s) => s.startWriters(WRITERS / 2))
        await each((s) => s.loads[1]!.ackedMore(200, `${s.ack}: acknowledged writes after MariaDB came back`))
        await each(async (s) => {
          await recovered(s.engine)
          s.history.mark('engine recovered')
        })
        await Promise.all(
          afterOutage.map((load) => load.ackedMore(100, 'acknowledged writes after recovering')),
        )
      } finally {
        await each(async (s) => {
          await Promise.all(s.loads.map((load) => load.stop()))
        })
      }
      const label = `mariadb ${signal} ${outageMs} ms`
      for (const s of subjects) {
        const report = await verify(s, label)
        expect(s.history.summary().acked).toBeGreaterThan(0)
        expect(report).toBe(
          [
            `${s.ack}, live engine: no violations`,
            `${s.ack}, L3 read directly: no violations`,
            `${s.ack}, fresh engine: no violations`,
            `(${s.seeds()})`,
          ].join('\n'),
        )
      }
    }

    it(
      'acks logged and queued: MariaDB stopped (SIGTERM) for 10 s, restarted on the same data directory',
      () => run('SIGTERM', OUTAGE_MS),
      90_000,
    )

    it(
      'acks logged and queued: MariaDB killed -9 mid-load, restarted 2 s later (crash recovery)',
      () => run('SIGKILL', 2_000),
      90_000,
    )
  },
)
