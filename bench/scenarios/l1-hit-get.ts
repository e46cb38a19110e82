import { SyncEngine, SyncItem } from '@sync-engine/core'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import { LRUCache } from 'lru-cache'
import { accessPattern, collectGarbage, makeIds, makeValues } from '../fixtures.ts'
import { type BenchContext, type Scenario, verdict } from '../report.ts'
import { blockMeasurement, timeBlocks } from '../timing.ts'

const KEYS = 10_000
/** Gets per timed block: the timer is read once per block, so its cost (~50 ns) is spread thin. */
const BLOCK = 1_000
const WARMUP_BLOCKS = 200
const ROUNDS = 20
const BLOCKS_PER_ROUND = 50
const L1_MAX_BYTES = 1024 * 1024 * 1024
const TARGET = 0.5

export const l1HitGet: Scenario = {
  id: 'l1-hit-get',
  title: 'L1-hit get',
  async run(ctx: BenchContext) {
    const ids = makeIds(KEYS)
    const values = makeValues(KEYS)
    const items = ids.map((id, i) => SyncItem.fromJson(id, values[i]))
    const measuredOps = ROUNDS * BLOCKS_PER_ROUND * BLOCK
    const pattern = accessPattern(WARMUP_BLOCKS * BLOCK + measuredOps, KEYS)

    const path = ctx.tmp.file('l1-hit')
    const engine = new SyncEngine({ l3: createSqliteStore({ path }), config: { l1MaxBytes: L1_MAX_BYTES } })
    await engine.start()
    try {
      for (const item of items) await engine.submit(item, { ack: 'queued' })
      await engine.flush()

      // The raw baseline: the same library L1 wraps, the same options, the same stored items.
      const cache = new LRUCache<string, SyncItem>({
        maxSize: L1_MAX_BYTES,
        sizeCalculation: (item) => item.footprintBytes,
      })
      // Writes go around L1: this first read of each id is what admits it.
      for (const id of ids) cache.set(id, (await engine.get(id))!)
      const health = await engine.health()
      if (health.l1.items !== KEYS || health.queue.depth !== 0) {
        throw new Error(`setup: L1 holds ${health.l1.items} items, queue ${health.queue.depth}`)
      }
      const rawGet = async (id: string) => cache.get(id)
      const engineGet = (id: string) => engine.get(id)
      const onPattern =
        (get: (id: string) => Promise<SyncItem | undefined>) =>
        (j: number): Promise<SyncItem | undefined> =>
          get(ids[pattern[j]!]!)
      const engineSide = onPattern(engineGet)
      const rawSide = onPattern(rawGet)

      ctx.log(`l1-hit-get: warm-up ${WARMUP_BLOCKS * BLOCK} gets per side`)
      await timeBlocks(engineSide, 0, WARMUP_BLOCKS, BLOCK)
      await timeBlocks(rawSide, 0, WARMUP_BLOCKS, BLOCK)

      const engineNs: number[] = []
      const rawNs: number[] = []
      for (let round = 0; round < ROUNDS; round++) {
        const offset = (WARMUP_BLOCKS + round * BLOCKS_PER_ROUND) * BLOCK
        collectGarbage()
        // Alternate which side goes first, so neither always runs right after a GC.
        const sides: [(j: number) => Promise<unknown>, number[]][] = [
          [engineSide, engineNs],
          [rawSide, rawNs],
        ]
        if (round % 2 === 1) sides.reverse()
        for (const [get, into] of sides)
          into.push(...(await timeBlocks(get, offset, BLOCKS_PER_ROUND, BLOCK)))
      }

      const subject = blockMeasurement('engine.get', 'subject', engineNs, BLOCK)
      const baseline = blockMeasurement('lru-cache get in an async fn', 'baseline', rawNs, BLOCK)
      return {
        id: this.id,
        title: this.title,
        setup: [
          `${KEYS.toLocaleString('en-US')} JSON items of ~200 bytes, submitted with ack 'queued', flushed to SQLite, then read once (writes go around L1; the first read admits); all timed reads are L1 hits.`,
          `Engine: \`await engine.get(id)\`. Raw: \`await get(id)\` with \`const get = async (id) => cache.get(id)\` on an \`LRUCache\` configured like L1 (maxSize ${L1_MAX_BYTES / 1024 ** 3} GiB + sizeCalculation) holding the same items.`,
          `Same uniform random access pattern (pre-generated) for both; ${(WARMUP_BLOCKS * BLOCK).toLocaleString('en-US')} warm-up gets per side, then ${ROUNDS} alternating rounds of ${(BLOCKS_PER_ROUND * BLOCK).toLocaleString('en-US')} gets per side (${measuredOps.toLocaleString('en-US')} measured gets per side).`,
          `Timed in blocks of ${BLOCK.toLocaleString('en-US')} gets with \`process.hrtime.bigint()\`; a latency sample is a block's mean per get, so p99 is the p99 of 1,000-get means (GC pauses show there), not of single gets. Throughput = measured gets ÷ total measured time.`,
        ],
        measurements: [subject, baseline],
        verdicts: [verdict(subject, baseline, TARGET)],
        notes: [],
      }
    } finally {
      await engine.shutdown()
      ctx.tmp.removeDb(path)
    }
  },
}
