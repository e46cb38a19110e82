import type { Observed } from './history.ts'

/** Reads the state of every id, a few at a time; a read that fails fails the whole call. */
export async function readFinalState(
  ids: readonly string[],
  read: (id: string) => Promise<Observed>,
  concurrency = 8,
): Promise<Map<string, Observed>> {
  const states = new Map<string, Observed>()
  let next = 0
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!
      states.set(id, await read(id))
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker))
  return states
}
