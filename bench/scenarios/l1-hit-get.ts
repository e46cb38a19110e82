import { SyncEngine, SyncItem } from '@sync-engine/core'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import { LRUCache } from 'lru-cache'
import { accessPattern, collectGarbage, makeIds, makeValues } from '../fixtures.ts'
import { type BenchContext, type Measurement, type Scenario, verdict } from '../report.ts'
import { nowNs, summarize } from '../stats.ts'

const KEYS = 10_000
/** Gets per timed block: the timer is read once per block, so its cost (~50 ns) is spread thin. */
const BLOCK = 1_000
const WARMUP_BLOCKS = 200
const ROUNDS = 20
const BLOCKS_PER_ROUND = 50
const L1_MAX_BYTES = 1024 * 1024 * 1024
const TARGET = 0.5

type Getter = (id: string) => Promise<SyncItem | undefined>

/**
 * Times `BLOCK` awaited gets per sample, walking the shared access pattern from `offset`.
 * Returns per-block nanoseconds; throws on a miss (every key must be an L1 hit).
 */
async function timeBlocks(
  get: Getter,
  ids: readonly string[],
  pattern: Uint32Array,
  offset: number,
  blocks: number,
): Promise<number[]> {
  const samples: number[] = []
  let misses = 0
  for (let b = 0; b < blocks; b++) {
    const start = offset + b * BLOCK
    const end = start + BLOCK
    const t0 = nowNs()
    for (let j = start; j < end; j++) {
      if ((await get(ids[pattern[j]!]!)) === undefined) misses++
    }
    samples.push(nowNs() - t0)
  }
  if (misses > 0) throw new Error(`${misses} gets missed: the scenario must be all L1 hits`)
  return samples
}

function measurement(label: string, role: Measurement['role'], blockNs: number[]): Measurement {
  const totalNs = blockNs.reduce((sum, ns) => sum + ns, 0)
  return {
    label,
    role,
    latency: {
      sampleOf: `per get (mean of a ${BLOCK.toLocaleString('en-US')}-get block)`,
      ns: summarize(blockNs.map((ns) => ns / BLOCK)),
    },
    throughput: (blockNs.length * BLOCK) / (totalNs / 1e9),
    unit: 'gets/s',
  }
}

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
      const health = await engine.health()
      if (health.l1.items !== KEYS || health.queue.depth !== 0) {
        throw new Error(`setup: L1 holds ${health.l1.items} items, queue ${health.queue.depth}`)
      }

      // The raw baseline: the same library L1 wraps, the same options, the same stored items.
      const cache = new LRUCache<string, SyncItem>({
        maxSize: L1_MAX_BYTES,
        sizeCalculation: (item) => item.footprintBytes,
      })
      for (const id of ids) cache.set(id, (await engine.get(id))!)
      const rawGet: Getter = async (id) => cache.get(id)
      const engineGet: Getter = (id) => engine.get(id)

      ctx.log(`l1-hit-get: warm-up ${WARMUP_BLOCKS * BLOCK} gets per side`)
      await timeBlocks(engineGet, ids, pattern, 0, WARMUP_BLOCKS)
      await timeBlocks(rawGet, ids, pattern, 0, WARMUP_BLOCKS)

      const engineNs: number[] = []
      const rawNs: number[] = []
      for (let round = 0; round < ROUNDS; round++) {
        const offset = (WARMUP_BLOCKS + round * BLOCKS_PER_ROUND) * BLOCK
        collectGarbage()
        // Alternate which side goes first, so neither always runs right after a GC.
        const sides: [Getter, number[]][] = [
          [engineGet, engineNs],
          [rawGet, rawNs],
        ]
        if (round % 2 === 1) sides.reverse()
        for (const [get, into] of sides)
          into.push(...(await timeBlocks(get, ids, pattern, offset, BLOCKS_PER_ROUND)))
      }

      const subject = measurement('engine.get', 'subject', engineNs)
      const baseline = measurement('lru-cache get in an async fn', 'baseline', rawNs)
      return {
        id: this.id,
        title: this.title,
        setup: [
          `${KEYS.toLocaleString('en-US')} JSON items of ~200 bytes, submitted with ack 'queued' and flushed to SQLite; all reads are L1 hits.`,
          `Engine: \`await engine.get(id)\`. Raw: \`await get(id)\` with \`const get = async (id) => cache.get(id)\` on an \`LRUCache\` configured like L1 (maxSize ${L1_MAX_BYTES / 1024 ** 3} GiB + sizeCalculation) holding the same items.`,
          `Same uniform random access pattern (pre-generated) for both; ${(WARMUP_BLOCKS * BLOCK).toLocaleString('en-US')} warm-up gets per side, then ${ROUNDS} alternating rounds of ${(BLOCKS_PER_ROUND * BLOCK).toLocaleString('en-US')} gets per side (${measuredOps.toLocaleString('en-US')} measured gets per side).`,
          `Timed in blocks of ${BLOCK.toLocaleString('en-US')} gets with \`process.hrtime.bigint()\`; a latency sample is a block's mean per get, so p99 is the p99 of 1,000-get means (GC pauses show there), not of single gets. Throughput = measured gets ÷ total measured time.`,
        ],
        measurements: [subject, baseline],
        verdict: verdict(subject, baseline, TARGET),
        notes: [],
      }
    } finally {
      await engine.shutdown()
      ctx.tmp.removeDb(path)
    }
  },
}
