import { asText, type Row } from './sql-rows.ts'
import type { SqlResult } from './sql-transport.ts'

/** `rows` as runs of descending powers of two (13 → 8, 4, 1). */
export function powersOfTwo<T>(rows: readonly T[]): T[][] {
  const runs: T[][] = []
  let start = 0
  while (start < rows.length) {
    const size = 2 ** Math.floor(Math.log2(rows.length - start))
    runs.push(rows.slice(start, start + size))
    start += size
  }
  return runs
}

/**
 * `ids` as IN lists of at most `chunk` (a power of two), the last padded to a power of two by
 * repeating its last id (harmless in IN): reads of any size use one of a dozen statement texts,
 * prepared once.
 */
export function inLists(ids: readonly string[], chunk: number): string[][] {
  const lists: string[][] = []
  for (let start = 0; start < ids.length; start += chunk) {
    const list = ids.slice(start, start + chunk)
    const size = 2 ** Math.ceil(Math.log2(list.length))
    while (list.length < size) list.push(list.at(-1)!)
    lists.push(list)
  }
  return lists
}

export function versionsOf(results: readonly SqlResult[]): Map<string, number> {
  const versions = new Map<string, number>()
  for (const result of results) {
    for (const row of result.rows) versions.set(asText(row.id), Number(row.version))
  }
  return versions
}

export interface WriteCounts {
  applied: number
  stale: string[]
  /** The stored version of each stale id. */
  storedVersions: Map<string, number>
}

/** A row is stale when the stored version is newer than the one written; otherwise it counts as applied. */
export function staleByVersion(rows: readonly Row[], stored: ReadonlyMap<string, number>): WriteCounts {
  const stale: string[] = []
  const storedVersions = new Map<string, number>()
  for (const { record } of rows) {
    const version = stored.get(record.id) ?? 0
    if (version > record.version) {
      stale.push(record.id)
      storedVersions.set(record.id, version)
    }
  }
  return { applied: rows.length - stale.length, stale, storedVersions }
}
