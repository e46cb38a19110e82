import type { L3Store } from '@sync-engine/core'
import type { Observed } from './history.ts'

const decoder = new TextDecoder()
const PAGE = 500

/**
 * The states L3 (the ground truth) holds for `ids`, read straight from the store, around every
 * engine: tombstones show their version, which HTTP cannot.
 */
export async function readL3State(store: L3Store, ids: readonly string[]): Promise<Map<string, Observed>> {
  const records = await store.read(ids)
  const states = new Map<string, Observed>()
  for (const id of ids) {
    const record = records.get(id)
    if (record === undefined) states.set(id, { present: false })
    else if (record.tombstone) states.set(id, { present: false, version: record.version })
    else states.set(id, { present: true, version: record.version, content: decoder.decode(record.content!) })
  }
  return states
}

/** Every live id in L3 (keyset pages), for the phantom check. */
export async function listLiveIds(store: L3Store, prefix?: string): Promise<string[]> {
  const ids: string[] = []
  let after: string | undefined
  for (;;) {
    const page = await store.scanIds({
      limit: PAGE,
      ...(after !== undefined && { after }),
      ...(prefix && { prefix }),
    })
    ids.push(...page)
    if (page.length < PAGE) return ids
    after = page[page.length - 1]
  }
}
