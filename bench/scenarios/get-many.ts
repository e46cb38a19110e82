import { prng } from '../fixtures.ts'
import { type BenchContext, type Measurement, type Scenario, skippedResult, verdict } from '../report.ts'
import { load, makeItems, openTieredEngine, permutation, tiersOrSkip } from '../tiers.ts'
import { alternate, perCallMeasurement, type Side } from '../timing.ts'

const KEYS = 20_000
const BATCH = 100
/** A few dozen items: every id comes back only 20,000 ids later, so no id of a batch is in L1. */
const L1_MAX_BYTES = 16 * 1024
const WARMUP = 100
const ROUNDS = 6
const PER_ROUND = 300
const TARGET = 0.8

/** What the profile and the ablations of 2026-11-25 showed (this machine). */
const PROFILE =
  'Where the time goes (profiled 2026-11-25, medians of alternating runs on this machine): raw `mgetBuffer(100)` 138–169 µs; the same MGET with the store’s EXISTS over the same 100 keys in one pipeline 210–214 µs (+45–75 µs: the second command exists only to tell a nil from a key of another type); `RedisStore.read(100)` 596–629 µs; `engine.getMany(100)` 657–662 µs. ' +
  'So ~400 µs of the gap is the store decoding 100 values: `decodeEnvelope` costs 2.4–3.3 µs per value (see the L2-hit get scenario: hash hex with padStart, a separate ArrayBuffer per content copy, per-call closures), and without any network `RedisStore.read(100)` measured 313–403 µs of CPU, `engine.getMany(100)` 369–377 µs — already more than the whole budget. The engine’s own share (admission: a second queue lookup, `SyncItem.restore`, `L1.set`, a Set and a Map per call) is 30–60 µs per call. ' +
  'The 80 % target leaves 0.4–0.6 µs per id over raw MGET (a quarter of raw’s own 1.5–2.3 µs per id), for decode, admission and EXISTS together: the micro-fixes to `decodeEnvelope` (≈ 1 µs per value) are not enough; it needs a lazy envelope (read the 25-byte header, keep the hash as bytes and hex it on demand, keep the content as a view of one copied value) and EXISTS only after an MGET that answered nil (a miss then costs a second round trip).'

export const getMany: Scenario = {
  id: 'get-many',
  title: 'getMany(100), L2 hits (Redis)',
  async run(ctx: BenchContext) {
    const services = tiersOrSkip(ctx)
    if (services.skip !== undefined) return skippedResult(this, services.skip)
    const { redis, mysql } = services

    const items = makeItems(KEYS)
    const order = permutation(KEYS, prng(13))
    const tiers = await openTieredEngine(redis, mysql, 'getmany', { l1MaxBytes: L1_MAX_BYTES })
    const raw = await redis.client()
    try {
      ctx.log(`get-many: loading ${KEYS} items into Redis and MariaDB`)
      await load(tiers.engine, items)
      // Batch b: the ids at positions [100·b, 100·b + 100) of the permutation, wrapping around.
      const batches = KEYS / BATCH
      const idBatches = Array.from({ length: batches }, (_, b) =>
        Array.from({ length: BATCH }, (_, k) => items[order[b * BATCH + k]!]!.id),
      )
      const keyBatches = idBatches.map((ids) => ids.map((id) => tiers.itemKey(id)))
      const idsAt = (i: number) => idBatches[i % batches]!
      const keysAt = (i: number) => keyBatches[i % batches]!

      let before = { ...tiers.counts }
      let wrong = 0
      const sides: Side[] = [
        {
          label: `engine.getMany(${BATCH} ids)`,
          role: 'subject',
          op: async (i) => {
            const found = await tiers.engine.getMany(idsAt(i))
            for (const item of found) if (item === undefined) wrong++
          },
          before: () => {
            before = { ...tiers.counts }
          },
          check: (calls) => {
            const l2 = tiers.counts.l2ReadIds - before.l2ReadIds
            const l3 = tiers.counts.l3Reads - before.l3Reads
            if (l2 !== calls * BATCH || l3 !== 0) {
              throw new Error(`get-many: ${calls} getMany calls read ${l2} ids from L2 and L3 ${l3} times`)
            }
          },
        },
        {
          label: `raw ioredis mgetBuffer(${BATCH} keys)`,
          role: 'baseline',
          op: async (i) => {
            const values = await raw.mgetBuffer(...keysAt(i))
            for (const value of values) if (value === null) wrong++
          },
        },
        {
          label: `L2 store alone: RedisStore.read(${BATCH} ids)`,
          role: 'info',
          op: async (i) => {
            const found = await tiers.l2.read(idsAt(i))
            wrong += BATCH - found.size
          },
        },
      ]
      const foreignBefore = await redis.foreignLoad()
      const samples = await alternate(sides, {
        warmup: WARMUP,
        rounds: ROUNDS,
        perRound: PER_ROUND,
        onRound: (round) => ctx.log(`get-many: round ${round + 1}/${ROUNDS}`),
      })
      const foreignAfter = await redis.foreignLoad()
      if (wrong > 0) throw new Error(`get-many: ${wrong} ids came back missing`)
      const measurements = sides.map((side, i) =>
        perCallMeasurement(side, samples[i]!, 'items/s', `per call of ${BATCH} ids, one in flight`, BATCH),
      )
      const subject = measurements[0]!
      const baseline = measurements[1]!
      const store = measurements[2]!
      const us = (m: Measurement, minus?: Measurement) =>
        ((m.latency.ns.median - (minus?.latency.ns.median ?? 0)) / 1000).toFixed(0)
      return {
        id: this.id,
        title: this.title,
        setup: [
          `${KEYS.toLocaleString('en-US')} JSON items of ~200 bytes written through the engine with ack 'stored' into Redis (L2) and MariaDB (L3), this run's own key prefix and table.`,
          `Engine: L2 = \`openRedisStore\`, L3 = \`createMysqlStore\`, \`l1MaxBytes\` ${L1_MAX_BYTES / 1024} KiB (a few dozen items). Each call asks for ${BATCH} ids: consecutive slices of one fixed random permutation of the ${KEYS.toLocaleString('en-US')} ids, so an id comes back only ${KEYS.toLocaleString('en-US')} ids later and every id misses L1. Counted: every measured call read exactly ${BATCH} ids from L2 and never touched L3.`,
          `Raw baseline: a separate plain ioredis client, \`await redis.mgetBuffer(...keys)\` of the same ${BATCH} keys (the same bytes). Informational: the engine's L2 store alone (\`RedisStore.read(ids)\`: MGET + EXISTS in one pipeline, envelope decode).`,
          `Sequential, one call in flight, each call timed; ${WARMUP} warm-up calls per side, then ${ROUNDS} rounds of ${PER_ROUND} calls per side, side order rotating. Throughput = ids ÷ summed call time.`,
        ],
        measurements,
        verdicts: [verdict(subject, baseline, TARGET)],
        notes: [
          `Median per call: raw MGET ${us(baseline)} µs; L2 store ${us(store)} µs (+${us(store, baseline)}); engine ${us(subject)} µs (+${us(subject, store)} over the store). The target allows ${((baseline.latency.ns.median / TARGET - baseline.latency.ns.median) / 1000 / BATCH).toFixed(2)} µs per id over raw; this run spent ${((subject.latency.ns.median - baseline.latency.ns.median) / 1000 / BATCH).toFixed(2)} µs per id.`,
          PROFILE,
          `Shared server: Redis processed ${Math.round(foreignBefore).toLocaleString('en-US')} commands/s for other clients just before the timed rounds and ${Math.round(foreignAfter).toLocaleString('en-US')}/s just after (each sampled for 250 ms while this process sent nothing). Redis runs commands one at a time, so that traffic adds to every round trip here, raw and engine alike.`,
        ],
      }
    } finally {
      raw.disconnect()
      await tiers.close()
    }
  },
}
