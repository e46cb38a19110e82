import { join } from 'node:path'
import {
  BackendError,
  FlushError,
  l1EntryBytes,
  StaleVersionError,
  type SyncConfigInput,
  SyncEngine,
  SyncItem,
} from '@sync-engine/core/internal'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { driveUntilSettled, FakePlatform, macrotask } from '../support/fake-platform.ts'
import { FlakyL3 } from '../support/flaky-l3.ts'
import { makeTempDir } from '../support/temp-dir.ts'

/**
 * The engine (SQLite L3 on a temp file, fake clock and timers) against an in-memory model: a map
 * from id to the content of its last write, or `null` once deleted. Random interleavings of
 * submit / delete / flush / get / getMany / restart / time moves / L3 outages must read exactly
 * like the model at every step, and end with L3 holding exactly the model's state.
 */

const dir = makeTempDir('engine-model')
afterAll(() => dir.remove())

const ID_POOL = ['a', 'b', 'c', 'user:1', 'é/日本', 'x*y'] as const
type Id = (typeof ID_POOL)[number]

interface Expected {
  readonly hex: string
  readonly contentType: 'json' | 'binary'
  readonly mime: string
}

type Content =
  | { kind: 'json'; value: unknown }
  | { kind: 'spaced-json'; value: Record<string, unknown> | unknown[] }
  | { kind: 'binary'; bytes: Uint8Array; mime: string | undefined }
  | { kind: 'big'; size: number; fill: number }

type Command =
  /**
   * `l1TtlMs`: a TTL for this write (`redis: false`: L1 and L3): the item's lifetime in every tier
   * it is in, so once it passed the item is gone everywhere.
   */
  | { op: 'submit'; id: Id; content: Content; ack: 'queued' | 'stored'; l1TtlMs: number | undefined }
  /** A caller-supplied version: the id's current version + delta (stale when delta < 0). */
  | { op: 'submitVersioned'; id: Id; content: Content; ack: 'queued' | 'stored'; delta: number }
  | { op: 'delete'; id: Id; ack: 'queued' | 'stored' }
  | { op: 'flush' }
  | { op: 'get'; id: Id }
  | { op: 'getMany'; ids: Id[] }
  | { op: 'restart' }
  | { op: 'advance'; ms: number }
  | { op: 'clockBack'; ms: number }
  | { op: 'outage'; writes: number }

const idArb = fc.constantFrom(...ID_POOL)
const ackArb = fc.constantFrom('queued' as const, 'stored' as const)
const contentArb: fc.Arbitrary<Content> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('json' as const), value: fc.jsonValue({ maxDepth: 2 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('spaced-json' as const),
      value: fc.oneof(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }),
        fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 4 }),
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('binary' as const),
      bytes: fc.uint8Array({ maxLength: 48 }),
      mime: fc.constantFrom(undefined, 'image/png', 'text/plain; charset=utf-8'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('big' as const),
      size: fc.integer({ min: 400, max: 3000 }),
      fill: fc.integer({ min: 0, max: 255 }),
    }),
  },
)

const baseCommands = [
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('submit' as const),
      id: idArb,
      content: contentArb,
      ack: ackArb,
      l1TtlMs: fc.constantFrom(undefined, undefined, 20, 150),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), id: idArb, ack: ackArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('flush' as const) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('get' as const), id: idArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('getMany' as const),
      ids: fc.array(idArb, { minLength: 1, maxLength: 6 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('restart' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 300 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('clockBack' as const),
      ms: fc.integer({ min: 1, max: 3_600_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('outage' as const), writes: fc.integer({ min: 1, max: 2 }) }),
  },
] satisfies fc.WeightedArbitrary<Command>[]

const commandArb: fc.Arbitrary<Command> = fc.oneof(...baseCommands)

const withCallerVersionsArb: fc.Arbitrary<Command> = fc.oneof(...baseCommands, {
  weight: 4,
  arbitrary: fc.record({
    op: fc.constant('submitVersioned' as const),
    id: idArb,
    content: contentArb,
    ack: ackArb,
    delta: fc.constantFrom(-3, -2, -1, 1, 2, 3, 1_000_000_000),
  }),
})

const configArb: fc.Arbitrary<SyncConfigInput> = fc.record({
  batchFlushCount: fc.constantFrom(1, 2, 3, 5, 1000),
  batchFlushBytes: fc.constantFrom(1500, 4096, 1024 * 1024),
  batchFlushMs: fc.constantFrom(1, 10, 100),
  // 600 bytes holds about two small items: evictions on nearly every write.
  l1MaxBytes: fc.constantFrom(600, 2048, 256 * 1024 * 1024),
  l1TtlMs: fc.constantFrom(undefined, 40),
  defaultAck: fc.constant('stored' as const),
})

function buildItem(id: Id, content: Content, version?: number): SyncItem {
  const meta = version === undefined ? {} : { version }
  switch (content.kind) {
    case 'json':
      return SyncItem.fromJson(id, content.value, meta)
    case 'spaced-json':
      return SyncItem.fromBytes(id, new TextEncoder().encode(JSON.stringify(content.value, null, 2)), meta)
    case 'binary':
      return SyncItem.fromBinary(
        id,
        content.bytes,
        content.mime === undefined ? meta : { ...meta, mime: content.mime },
      )
    case 'big':
      return SyncItem.fromBinary(id, new Uint8Array(content.size).fill(content.fill), meta)
  }
}

const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')

function describeItem(item: SyncItem | undefined): Expected | undefined {
  return item === undefined
    ? undefined
    : { hex: hex(item.content), contentType: item.contentType, mime: item.mime }
}

interface Current {
  readonly expected: Expected | null
  readonly version: number
  /** When the write had a TTL: the instant it expires in every tier. */
  readonly expiresAt?: number
}

class World {
  readonly platform = new FakePlatform()
  readonly path: string
  engine!: SyncEngine
  l3!: FlakyL3
  /** id → content (null once deleted) and version of the write that won; absent if never written. */
  readonly model = new Map<Id, Current>()
  /** id → highest version any write of it was given (engine versions must exceed it, across restarts too). */
  readonly highestVersion = new Map<Id, number>()

  constructor(
    readonly config: SyncConfigInput,
    run: number,
  ) {
    this.path = join(dir.path, `run-${run}.db`)
  }

  async open() {
    this.l3 = new FlakyL3(createSqliteStore({ path: this.path }))
    this.engine = new SyncEngine({
      config: this.config,
      l3: this.l3,
      platform: this.platform,
      // Outages here fail writes only, and the model keeps reads working: a breaker that opened
      // would (rightly) fail reads fast too. Breakers have their own properties (test/unit/resilience).
      breakers: { l3: { failureThreshold: Number.MAX_SAFE_INTEGER } },
    })
    await driveUntilSettled(this.platform, this.engine.start())
    expect(this.engine.state).toBe('ready')
  }

  async close() {
    this.l3.failWrites = 0 // the tier is back: shutdown must be able to flush
    await driveUntilSettled(this.platform, this.engine.shutdown())
    expect(this.engine.state).toBe('stopped')
  }

  /** An engine-assigned version: above every version the id ever had. */
  checkEngineVersion(id: Id, version: number) {
    const highest = this.highestVersion.get(id)
    if (highest !== undefined) expect(version).toBeGreaterThan(highest)
    expect(Number.isSafeInteger(version)).toBe(true)
  }

  /** Applies a write of `version` to the model: it wins only over an older current version. */
  applyWrite(id: Id, expected: Expected | null, version: number, expiresAt?: number) {
    this.highestVersion.set(id, Math.max(version, this.highestVersion.get(id) ?? 0))
    const current = this.model.get(id)
    if (current === undefined || version > current.version) {
      this.model.set(id, expiresAt === undefined ? { expected, version } : { expected, version, expiresAt })
    }
  }

  /**
   * What a read must see of `id` now: nothing once its TTL passed. After the clock was set back
   * from past the expiry, the item may or may not be back (`'either'`): a purge may have turned
   * it into a tombstone while it was expired.
   */
  visible(id: Id): Current | undefined | 'either' {
    const current = this.model.get(id)
    if (current?.expiresAt === undefined) return current
    if (current.expiresAt <= this.platform.now()) return undefined
    return current.expiresAt <= this.latestTime ? 'either' : current
  }

  /** The latest the fake clock has been (it can be set back). */
  get latestTime(): number {
    this.#latest = Math.max(this.#latest, this.platform.now())
    return this.#latest
  }
  #latest = 0

  /**
   * Runs a write and returns its version: from the receipt, or — when an injected outage failed
   * the flush it waited for — the caller's own version, else from `status`, where the write must
   * be pending (it stays queued and is retried).
   */
  async write(
    id: Id,
    attempt: () => Promise<{ version: number; ack: string }>,
    ack: string,
    callerVersion?: number,
  ): Promise<number> {
    try {
      const receipt = await driveUntilSettled(this.platform, attempt())
      expect(receipt.ack).toBe(ack)
      return receipt.version
    } catch (error) {
      this.expectOutageError(error)
      if (callerVersion !== undefined) return callerVersion
      const status = await driveUntilSettled(this.platform, this.engine.status(id))
      if (status.kind !== 'pending')
        throw new Error(`a failed write of ${id} is not pending: ${JSON.stringify(status)}`)
      return status.version
    }
  }

  /** An error a write may raise only while an L3 outage is injected. */
  expectOutageError(error: unknown) {
    if (!(error instanceof BackendError || error instanceof FlushError)) throw error
    expect(this.l3.failedWrites).toBeGreaterThan(0)
  }

  async checkRead(id: Id, got: SyncItem | undefined) {
    const seen = this.visible(id)
    if (seen === 'either' && got === undefined) return
    const current = seen === 'either' ? this.model.get(id) : seen
    expect(describeItem(got), `get(${JSON.stringify(id)})`).toEqual(current?.expected ?? undefined)
    if (got !== undefined) expect(got.version, `version of ${id}`).toBe(current?.version)
  }

  checkL1Accounting() {
    const { bytes, entries } = this.engine.l1Snapshot()
    expect(bytes).toBe(entries.reduce((sum, e) => sum + l1EntryBytes(e), 0))
    expect(bytes).toBeLessThanOrEqual(this.engine.config.l1MaxBytes)
  }

  async run(command: Command) {
    const { engine, platform } = this
    switch (command.op) {
      case 'submit': {
        const item = buildItem(command.id, command.content)
        // A write counts acknowledged or not: it is in L1 and queued, and retried until stored.
        const version = await this.write(
          command.id,
          () =>
            engine.submit(
              item,
              command.l1TtlMs === undefined
                ? { ack: command.ack }
                : { ack: command.ack, redis: false, redisTtl: command.l1TtlMs },
            ),
          command.ack,
        )
        this.checkEngineVersion(command.id, version)
        const expiresAt =
          command.l1TtlMs === undefined ? undefined : Math.floor(version / 1000) + command.l1TtlMs
        this.applyWrite(command.id, describeItem(item)!, version, expiresAt)
        break
      }
      case 'submitVersioned': {
        const current = this.model.get(command.id)?.version ?? 0
        let version = Math.max(1, current + command.delta)
        if (version === current) version = current + 1
        const sent = buildItem(command.id, command.content, version)
        let got: number
        try {
          got = await this.write(
            command.id,
            () => engine.submit(sent, { ack: command.ack }),
            command.ack,
            version,
          )
        } catch (error) {
          // Older than a version of the id the engine holds or a tier stored: refused, not applied.
          if (!(error instanceof StaleVersionError)) throw error
          expect(version).toBeLessThanOrEqual(this.highestVersion.get(command.id) ?? 0)
          break
        }
        expect(got).toBe(version)
        this.applyWrite(command.id, describeItem(sent)!, version)
        break
      }
      case 'delete': {
        const version = await this.write(
          command.id,
          () => engine.delete(command.id, { ack: command.ack }),
          command.ack,
        )
        this.checkEngineVersion(command.id, version)
        this.applyWrite(command.id, null, version)
        break
      }
      case 'flush':
        try {
          await driveUntilSettled(platform, engine.flush())
        } catch (error) {
          this.expectOutageError(error)
        }
        break
      case 'get':
        await this.checkRead(command.id, await driveUntilSettled(platform, engine.get(command.id)))
        break
      case 'getMany': {
        const items = await driveUntilSettled(platform, engine.getMany(command.ids))
        expect(items).toHaveLength(command.ids.length)
        for (const [index, id] of command.ids.entries()) await this.checkRead(id, items[index])
        break
      }
      case 'restart':
        await this.close()
        await this.open()
        break
      case 'advance':
        platform.advance(command.ms)
        void this.latestTime
        await macrotask()
        break
      case 'clockBack':
        void this.latestTime
        platform.setTime(platform.now() - command.ms)
        break
      case 'outage':
        this.l3.failWrites = command.writes
        break
    }
    this.checkL1Accounting()
  }

  async checkEveryId() {
    for (const id of ID_POOL)
      await this.checkRead(id, await driveUntilSettled(this.platform, this.engine.get(id)))
    const many = await driveUntilSettled(this.platform, this.engine.getMany([...ID_POOL]))
    for (const [index, id] of ID_POOL.entries()) await this.checkRead(id, many[index])
  }

  /** After shutdown: the SQLite file itself holds exactly the model. */
  async checkGroundTruth() {
    const store = createSqliteStore({ path: this.path })
    await store.init()
    try {
      const records = await store.read([...ID_POOL])
      let purged = 0
      for (const id of ID_POOL) {
        const current = this.model.get(id)
        const record = records.get(id)
        if (current === undefined) {
          expect(record, `L3 row of never-written ${id}`).toBeUndefined()
          continue
        }
        expect(record?.version, `L3 version of ${id}`).toBe(current.version)
        // An expired item may have been purged into a tombstone that keeps its version.
        if (current.expiresAt !== undefined && current.expiresAt <= this.latestTime && record?.tombstone) {
          purged++
          continue
        }
        expect(record?.expiresAt, `L3 expiry of ${id}`).toBe(current.expiresAt)
        if (current.expected === null) expect(record?.tombstone, `L3 tombstone of ${id}`).toBe(true)
        else {
          expect(record?.tombstone).toBe(false)
          expect({
            hex: hex(record!.content!),
            contentType: record!.contentType,
            mime: record!.mime,
          }).toEqual(current.expected)
        }
      }
      const live = [...this.model.values()].filter((v) => v.expected !== null).length
      expect(await store.count()).toBe(live - purged)
    } finally {
      await store.close()
    }
  }
}

let runCounter = 0

async function checkAgainstModel(commands: fc.Arbitrary<Command>, numRuns: number) {
  await fc.assert(
    fc.asyncProperty(
      configArb,
      fc.array(commands, { minLength: 5, maxLength: 60, size: 'max' }),
      async (config, commands) => {
        const world = new World(config, ++runCounter)
        await world.open()
        try {
          for (const command of commands) await world.run(command)
          await world.checkEveryId()
          // Everything survives a restart, versions included.
          await world.close()
          await world.open()
          await world.checkEveryId()
        } finally {
          await world.close()
        }
        await world.checkGroundTruth()
      },
    ),
    { numRuns },
  )
}

describe('SyncEngine against a model (SQLite L3, fake clock)', () => {
  it('reads like the model after every step and ends with L3 equal to the model', async () => {
    await checkAgainstModel(commandArb, Number(process.env.MODEL_RUNS ?? 50))
  })

  // BUG: with caller-supplied versions, a write older than the stored version of its id is served
  // by get()/getMany() while it sits in the write queue and L1 does not hold the newer version
  // (evicted, or after a restart): SyncEngine#readThrough and getMany return `queue.lookup(id)`
  // without comparing it with L3, so a stale write is read back (even resurrecting a deleted
  // item) until its flush is rejected by the L3 guard. Deterministic cases in
  // test/unit/engine-read-path.test.ts.
  it('…also with caller-supplied versions, stale ones included', async () => {
    await checkAgainstModel(withCallerVersionsArb, 40)
  })
})
