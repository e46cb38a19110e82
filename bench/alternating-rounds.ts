import type { BenchContext } from './report.ts'

/** A variant of a scenario that collects one result per round. */
export interface RoundVariant<R extends { readonly ms: number }> {
  readonly label: string
  readonly results: R[]
}

/**
 * Runs every variant once per round, alternating the order, so no variant always runs first (cold)
 * or right after another's garbage. Results are collected on each variant (cleared first).
 */
export async function runAlternatingRounds<V extends RoundVariant<R>, R extends { readonly ms: number }>(
  ctx: BenchContext,
  scenarioId: string,
  rounds: number,
  variants: readonly V[],
  run: (variant: V) => Promise<R>,
): Promise<void> {
  for (const variant of variants) variant.results.length = 0
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse()
    for (const variant of order) {
      const result = await run(variant)
      variant.results.push(result)
      ctx.log(`${scenarioId}: round ${round + 1}/${rounds} ${variant.label}: ${result.ms.toFixed(0)} ms`)
    }
  }
}
