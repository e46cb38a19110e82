/** Order statistics of a sample set. Percentiles use the nearest-rank method on sorted samples. */
export interface Summary {
  readonly n: number
  readonly min: number
  readonly median: number
  readonly p95: number
  readonly p99: number
  readonly max: number
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

export function summarize(samples: readonly number[]): Summary {
  return summarizeSorted([...samples].sort((a, b) => a - b))
}

/** `summarize` of samples already sorted ascending (e.g. a sorted `Float64Array` of millions). */
export function summarizeSorted(sorted: ArrayLike<number>): Summary {
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    median: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  }
}

export function median(samples: readonly number[]): number {
  return percentile(
    [...samples].sort((a, b) => a - b),
    50,
  )
}

/** Nanoseconds since an arbitrary origin, as a float (sub-µs resolution for block timings). */
export function nowNs(): number {
  return Number(process.hrtime.bigint())
}

/** Milliseconds with sub-ms resolution, for whole-run timings. */
export function nowMs(): number {
  return performance.now()
}
