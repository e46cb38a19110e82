import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  decodeEnvelope,
  isCorrupt,
  RedisKeyLayout,
  type StoredRecord,
  SyncEngine,
  SyncItem,
} from '@sync-engine/core/internal'
import { openRedisStore } from '@sync-engine/redis-ioredis'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { makeTempDir } from '../support/temp-dir.ts'
import { describeWithBinaries } from './support/binaries.ts'
import { checkFinalState, checkHistory } from './support/check-history.ts'
import { drain } from './support/drain.ts'
import { engineTarget, observedOf } from './support/engine-target.ts'
import { readFinalState } from './support/final-state.ts'
import { History } from './support/history.ts'
import { forgedHeader, GARBAGE } from './support/l2-garbage.ts'
import { startLoad } from './support/load.ts'
import { OwnRedis } from './support/own-redis.ts'
import { describeRun, describeViolations } from './support/report.ts'
import { waitFor } from './support/wait.ts'

/**
 * Garbage at item keys in Redis: foreign bytes, damaged envelopes, foreign
 * JSON, keys of another Redis type. Reading through the engine must never throw a raw error nor
 * return the garbage: the value comes from L3, the corrupt read is counted in `health()`, and the
 * L2 key is rewritten from L3.
 */
describeWithBinaries('chaos: garbage at L2 item keys', ['redis-server'], () => {
  const dir = makeTempDir('chaos-l2-garbage')
  let server: OwnRedis | undefined
  let raw: Redis | undefined
  const engines: SyncEngine[] = []
  let runs = 0

  beforeAll(async () => {
    server = await OwnRedis.start()
    raw = server.client()
  })

  afterEach(async () => {
    await Promise.allSettled(engines.splice(0).map((engine) => engine.shutdown()))
  })

  afterAll(async () => {
    try {
      raw?.disconnect()
      await server?.dispose()
    } finally {
      dir.remove()
    }
  })

  /** One SQLite file and one key prefix per test; every engine of the test shares both. */
  const tiers = () => {
    const name = `g${++runs}`
    const path = join(dir.path, `${name}.db`)
    const prefix = `chaos-${name}:`
    const layout = new RedisKeyLayout(prefix)
    const open = async () => {
      const l2 = await openRedisStore({ url: server!.url, commandTimeoutMs: 1_000 }, { prefix })
      const engine = new SyncEngine({ l2, l3: createSqliteStore({ path }), config: { redisPrefix: prefix } })
      engines.push(engine)
      await engine.start()
      return engine
    }
    const rawValue = async (id: string) => {
      const key = layout.itemKey(id)
      const type = await raw!.type(key)
      if (type !== 'string') return { type }
      const bytes = await raw!.getBuffer(key)
      return { type, value: bytes && decodeEnvelope(id, new Uint8Array(bytes)) }
    }
    /** Until the key holds a decodable envelope at `version` (the repair is written in the background). */
    const repaired = async (id: string, version: number) => {
      let last: Awaited<ReturnType<typeof rawValue>> | undefined
      const check = async () => {
        last = await rawValue(id)
        return !!last.value && !isCorrupt(last.value) && (last.value as StoredRecord).version === version
      }
      // The repair is a background write that lands within milliseconds; 2 s bounds a lost one.
      await waitFor(`the L2 repair of ${JSON.stringify(id)} to version ${version}`, check, 40).catch(
        (error: Error) => {
          const holds = last?.value && isCorrupt(last.value) ? `corrupt: ${last.value.reason}` : last?.type
          throw new Error(`${error.message}; the key still holds ${holds}`)
        },
      )
    }
    return { name, layout, open, rawValue, repaired }
  }

  const corruptReads = async (engine: SyncEngine) => (await engine.health()).l2.corruptReads

  it('every kind of garbage: get, getMany and status serve L3, count each corrupt read, and repair the key', async () => {
    const { layout, open, repaired } = tiers()
    const writer = await open()
    const items = GARBAGE.flatMap((garbage, i) => [
      SyncItem.fromJson(`json-${i}`, { kind: garbage.name, n: i }),
      SyncItem.fromBytes(`bin-${i}`, new Uint8Array([0, 1, 2, 255, i])),
    ])
    const receipts = await writer.submitMany(items, { ack: 'stored' })
    const versions = new Map(receipts.map((r) => [r.id, r.ok ? r.value.version : Number.NaN]))
    const ids = items.map((item) => item.id)
    await writer.shutdown()

    const plantAll = async () => {
      for (const [i, id] of ids.entries()) {
        const garbage = GARBAGE[Math.floor(i / 2)]!
        const key = layout.itemKey(id)
        await garbage.plant(raw!, key, await raw!.getBuffer(key).catch(() => null))
      }
    }
    const expectServedFromL3 = (found: readonly (SyncItem | undefined)[]) => {
      expect(found.map((item) => item?.version)).toEqual(ids.map((id) => versions.get(id)))
      expect(found.map((item) => item && [...item.content])).toEqual(items.map((item) => [...item.content]))
    }

    // getMany on a fresh engine: one round trip per tier, every garbage value a counted miss.
    await plantAll()
    const batchReader = await open()
    expectServedFromL3(await batchReader.getMany(ids))
    expect(await corruptReads(batchReader)).toBe(ids.length)
    for (const id of ids) await repaired(id, versions.get(id)!)

    // get, concurrently, on another fresh engine after the garbage is planted again.
    await plantAll()
    const reader = await open()
    expectServedFromL3(await Promise.all(ids.map((id) => reader.get(id))))
    expect(await corruptReads(reader)).toBe(ids.length)
    for (const id of ids) await repaired(id, versions.get(id)!)

    // status does not throw over garbage either, and reports the item synced in L3.
    await plantAll()
    const inspector = await open()
    for (const id of ids) {
      expect(await inspector.status(id)).toMatchObject({
        kind: 'synced',
        l3: true,
        version: versions.get(id),
      })
    }

    // Once repaired, a fresh engine reads every value from L2 without a single corrupt read.
    const reread = await open()
    await reread.getMany(ids)
    for (const id of ids) await repaired(id, versions.get(id)!)
    const clean = await open()
    expectServedFromL3(await clean.getMany(ids))
    expect(await corruptReads(clean)).toBe(0)
  }, 30_000)

  it('a value that forges a valid header with a higher version is still a counted miss, and is repaired', async () => {
    const { layout, open, rawValue, repaired } = tiers()
    const writer = await open()
    const receipt = await writer.submit(SyncItem.fromJson('forged', { real: true }), { ack: 'stored' })
    await writer.shutdown()
    await raw!.set(layout.itemKey('forged'), forgedHeader())
    expect(isCorrupt((await rawValue('forged')).value)).toBe(true)

    const reader = await open()
    const item = await reader.get('forged')
    expect(observedOf(item)).toEqual({ present: true, version: receipt.version, content: '{"real":true}' })
    expect(await corruptReads(reader)).toBe(1)
    await repaired('forged', receipt.version)
  }, 30_000)

  it('garbage planted continuously at random item keys during a write and read load', async () => {
    const { name, layout, open } = tiers()
    const engine = await open()
    const history = new History()
    const load = startLoad({
      target: engineTarget(engine, 'stored'),
      history,
      writers: 8,
      idsPerWriter: 4,
      readers: 4,
      readAfterWrite: true,
      thinkMs: 2,
      idPrefix: `${name}-`,
    })
    let vandalising = true
    let planted = 0
    const vandal = (async () => {
      while (vandalising) {
        const w = Math.floor(Math.random() * 8)
        const k = Math.floor(Math.random() * 4)
        const key = layout.itemKey(`${name}-w${w}-k${k}`)
        const garbage = GARBAGE[planted % GARBAGE.length]!
        await garbage.plant(raw!, key, await raw!.getBuffer(key).catch(() => null))
        planted++
        await sleep(2)
      }
    })()
    try {
      await load.ackedMore(400, 'acknowledged writes while garbage is planted')
    } finally {
      vandalising = false
      await vandal
      await load.stop()
    }
    await drain(engine)

    const ids = history.writtenIds()
    const summary = history.summary()
    const violations = checkHistory(history.ops, await readFinalState(ids, engineTarget(engine).get))
    const health = await engine.health()
    await engine.shutdown()
    const fresh = await open()
    const throughL2 = checkFinalState(history.ops, await readFinalState(ids, engineTarget(fresh).get))
    const failures = history.ops
      .filter((op) => op.outcome.kind === 'failed' || op.outcome.kind === 'unknown')
      .slice(0, 3)
      .map((op) => `${op.kind} #${op.index}: ${'reason' in op.outcome ? op.outcome.reason : ''}`)

    console.log(
      `${describeRun('l2-garbage', summary)}; ${planted} garbage values planted, ${health.l2.corruptReads} corrupt reads counted`,
    )
    expect(summary.acked).toBeGreaterThan(0)
    expect(summary.failedReads + summary.failed + summary.unknown, failures.join('\n')).toBe(0)
    expect(describeViolations(violations), `seed ${load.seed}`).toBe('no violations')
    expect(describeViolations(throughL2), `fresh engine, seed ${load.seed}`).toBe('no violations')
  }, 60_000)
})
