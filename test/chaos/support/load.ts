import { randomBytes } from 'node:crypto'
import { setImmediate, setTimeout as sleep } from 'node:timers/promises'
import type { History, WriteResult } from './history.ts'
import type { WriteTarget } from './write-target.ts'

export interface LoadOptions {
  readonly target: WriteTarget
  readonly history: History
  /** Concurrent writers; each owns its ids, so writes to one id never overlap. */
  readonly writers: number
  readonly idsPerWriter: number
  /** Prefix of every id (unique per run: ids must start absent). */
  readonly idPrefix: string
  /** Share of writes that are deletes (default 0.2). */
  readonly deleteShare?: number
  /** After each acknowledged write, the writer reads its id back (read your writes). */
  readonly readAfterWrite?: boolean
  /** Readers of random ids, concurrent with the writers (default 0). */
  readonly readers?: number
  /** Pause of a reader between reads (default 2): reads from L1 are so fast they would swamp the history. */
  readonly readerPauseMs?: number
  /** Size range of put contents in bytes (default 40–200). */
  readonly contentBytes?: { readonly min: number; readonly max: number }
  /** Pause of a writer after a write that was not acknowledged, so an outage is not a busy loop (default 25). */
  readonly backoffMs?: number
  /**
   * Pause of a writer between operations (default 0: it still yields to the event loop, so the
   * engine's timers run even when every call resolves at once, as `queued` acks do).
   */
  readonly thinkMs?: number
  /** Seed of the id/op choices (printed on failure to replay a run's choices). */
  readonly seed?: number
}

export interface RunningLoad {
  readonly seed: number
  /** Resolves once `count` more writes have been acknowledged than when it was called. */
  ackedMore(count: number, what?: string): Promise<void>
  /** Resolves once `count` more writes have completed, acknowledged or not. */
  completedMore(count: number, what?: string): Promise<void>
  /** Stops issuing and waits until every operation in flight has an outcome. */
  stop(): Promise<void>
}

/** How long a wait for progress may take before it fails (a hang guard, not a measurement). */
const PROGRESS_GUARD_MS = 60_000

/**
 * Concurrent writers (and optionally readers) recording every operation into the history until
 * `stop()`. Each put writes unique content naming its id and op number, so a read names the
 * put it sees.
 */
export function startLoad(options: LoadOptions): RunningLoad {
  const { target, history } = options
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31)
  // Several loads may share one history (phases around a fault): their contents must differ.
  const tag = randomBytes(4).toString('hex')
  const random = mulberry32(seed)
  const deleteShare = options.deleteShare ?? 0.2
  const { min, max } = options.contentBytes ?? { min: 40, max: 200 }
  const backoffMs = options.backoffMs ?? 25
  const thinkMs = options.thinkMs ?? 0
  const readerPauseMs = options.readerPauseMs ?? 2
  const pause = (ms: number) => (ms > 0 ? sleep(ms) : setImmediate())
  let stopped = false
  let opNumber = 0
  let acked = 0
  let completed = 0
  const waiters = new Set<() => void>()
  const progress = () => {
    for (const waiter of waiters) waiter()
  }

  const allIds: string[] = []
  const idsOf = (writer: number) =>
    Array.from({ length: options.idsPerWriter }, (_, k) => `${options.idPrefix}w${writer}-k${k}`)
  for (let w = 0; w < options.writers; w++) allIds.push(...idsOf(w))

  const read = async (id: string) => {
    const handle = history.invoke(id, 'read')
    try {
      history.observe(handle, await target.get(id))
    } catch (error) {
      history.readFailed(handle, String(error))
    }
  }

  const writer = async (w: number) => {
    const ids = idsOf(w)
    while (!stopped) {
      const id = ids[Math.floor(random() * ids.length)]!
      let result: WriteResult
      if (random() < deleteShare) {
        const handle = history.invoke(id, 'delete')
        result = await settle(() => target.delete(id))
        history.complete(handle, result)
      } else {
        const n = ++opNumber
        const head = `${id}#${tag}.${n}:`
        const size = min + Math.floor(random() * (max - min + 1))
        const content = head + 'x'.repeat(Math.max(0, size - head.length))
        const handle = history.invoke(id, 'put', content)
        result = await settle(() => target.put(id, content))
        history.complete(handle, result)
      }
      completed++
      if (result.kind === 'acked') acked++
      progress()
      if (result.kind === 'acked' && options.readAfterWrite) await read(id)
      await pause(result.kind === 'acked' ? thinkMs : backoffMs)
    }
  }

  const reader = async () => {
    while (!stopped) {
      await read(allIds[Math.floor(random() * allIds.length)]!)
      await pause(readerPauseMs)
    }
  }

  const tasks = [
    ...Array.from({ length: options.writers }, (_, w) => writer(w)),
    ...Array.from({ length: options.readers ?? 0 }, () => reader()),
  ]
  const all = Promise.all(tasks)

  const progressOf = (count: () => number, label: string) => async (more: number, what?: string) => {
    const target = count() + more
    if (count() >= target) return
    await new Promise<void>((resolve, reject) => {
      const guard = setTimeout(() => {
        waiters.delete(check)
        reject(
          new Error(`${what ?? label}: ${count()} of ${target} after ${PROGRESS_GUARD_MS} ms (seed ${seed})`),
        )
      }, PROGRESS_GUARD_MS)
      const check = () => {
        if (count() < target && !stopped) return
        waiters.delete(check)
        clearTimeout(guard)
        if (count() >= target) resolve()
        else reject(new Error(`${what ?? label}: load stopped at ${count()} of ${target}`))
      }
      waiters.add(check)
    })
  }

  return {
    seed,
    ackedMore: progressOf(() => acked, 'acknowledged writes'),
    completedMore: progressOf(() => completed, 'completed writes'),
    async stop() {
      stopped = true
      progress()
      await all
    },
  }
}

/** A target that throws despite its contract still gets its write recorded, as unknown. */
async function settle(run: () => Promise<WriteResult>): Promise<WriteResult> {
  try {
    return await run()
  } catch (error) {
    return { kind: 'unknown', reason: `target threw: ${String(error)}` }
  }
}

/** A small seeded PRNG: the same seed makes the same choices. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
