import { collectGarbage } from './fixtures.ts'
import type { Measurement, Role } from './report.ts'
import { nowNs, summarize } from './stats.ts'

/** One side of a comparison: an awaited operation on call number `i`. */
export interface Side {
  readonly label: string
  readonly role: Role
  readonly op: (i: number) => Promise<unknown>
  /** Runs before each timed round of this side (outside the timer): e.g. snapshots counters. */
  readonly before?: () => void
  /** Runs after each timed round of this side (outside the timer): checks, e.g. tier counters. */
  readonly check?: (calls: number) => void
  readonly detail?: () => string | undefined
}

/**
 * Times each awaited call on its own (one in flight), for calls `[from, from + count)`.
 * Per-call timing is right for operations of tens of µs and more (a network round trip), where the
 * timer's ~100 ns is noise; for sub-µs operations use `timeBlocks`.
 */
export async function timeEach(
  op: (i: number) => Promise<unknown>,
  from: number,
  count: number,
  into: number[],
): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const t0 = nowNs()
    await op(i)
    into.push(nowNs() - t0)
  }
}

/**
 * Warm-up, then `rounds` rounds in which every side runs `perRound` calls, the order of the sides
 * rotating each round (so no side always runs first, or right after a GC). Every side sees the same
 * call numbers in the same round. Returns each side's per-call samples, in ns.
 */
export async function alternate(
  sides: readonly Side[],
  options: { warmup: number; rounds: number; perRound: number; onRound?: (round: number) => void },
): Promise<number[][]> {
  const samples = sides.map(() => [] as number[])
  for (const side of sides) await timeEach(side.op, 0, options.warmup, [])
  for (let round = 0; round < options.rounds; round++) {
    collectGarbage()
    const from = options.warmup + round * options.perRound
    for (let k = 0; k < sides.length; k++) {
      const index = (round + k) % sides.length
      const side = sides[index]!
      side.before?.()
      await timeEach(side.op, from, options.perRound, samples[index]!)
      side.check?.(options.perRound)
    }
    options.onRound?.(round)
  }
  return samples
}

/** A side's samples as a report row: latency percentiles per call, throughput = calls ÷ total time. */
export function perCallMeasurement(
  side: Side,
  samplesNs: readonly number[],
  unit: string,
  sampleOf: string,
  perCall = 1,
): Measurement {
  const total = samplesNs.reduce((sum, ns) => sum + ns, 0)
  const detail = side.detail?.()
  return {
    label: side.label,
    role: side.role,
    latency: { sampleOf, ns: summarize(samplesNs) },
    throughput: (samplesNs.length * perCall) / (total / 1e9),
    unit,
    ...(detail ? { detail } : {}),
  }
}

/**
 * Times `block` awaited gets per sample (sub-µs operations: the timer is read once per block, so
 * its cost is spread thin). Returns per-block nanoseconds; throws if any get returned undefined.
 */
export async function timeBlocks(
  get: (i: number) => Promise<unknown>,
  from: number,
  blocks: number,
  block: number,
): Promise<number[]> {
  const samples: number[] = []
  let misses = 0
  for (let b = 0; b < blocks; b++) {
    const start = from + b * block
    const end = start + block
    const t0 = nowNs()
    for (let j = start; j < end; j++) {
      if ((await get(j)) === undefined) misses++
    }
    samples.push(nowNs() - t0)
  }
  if (misses > 0) throw new Error(`${misses} gets missed: the scenario must be all hits`)
  return samples
}

/** Block samples as a report row: a latency sample is a block's mean per get. */
export function blockMeasurement(
  label: string,
  role: Role,
  blockNs: readonly number[],
  block: number,
  detail?: string,
): Measurement {
  const totalNs = blockNs.reduce((sum, ns) => sum + ns, 0)
  return {
    label,
    role,
    latency: {
      sampleOf: `per get (mean of a ${block.toLocaleString('en-US')}-get block)`,
      ns: summarize(blockNs.map((ns) => ns / block)),
    },
    throughput: (blockNs.length * block) / (totalNs / 1e9),
    unit: 'gets/s',
    ...(detail ? { detail } : {}),
  }
}
