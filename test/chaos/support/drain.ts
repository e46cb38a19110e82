import type { SyncEngine } from '@sync-engine/core'
import { waitFor } from './wait.ts'

/** What `drain` reads from a health report; the log and degradation fields exist once the engine has them. */
interface DrainHealth {
  readonly queue: { readonly depth: number }
  readonly wal?: { readonly parked?: number }
  readonly degraded?: readonly string[]
}

/**
 * Waits until nothing is pending: the write queue is empty (it retries failed flushes with backoff
 * of up to a few seconds), no write is parked in the log for a tier that was down, and no tier is
 * degraded. Then flushes once more. Bounded: an engine that never drains fails here, naming what
 * it got stuck at.
 */
export async function drain(engine: SyncEngine, attempts = 600): Promise<void> {
  let last: DrainHealth | undefined
  await waitFor(
    'the engine draining everything pending',
    async () => {
      last = (await engine.health()) as DrainHealth
      return last.queue.depth === 0 && (last.wal?.parked ?? 0) === 0 && (last.degraded ?? []).length === 0
    },
    attempts,
  ).catch((error: Error) => {
    const where = last
      ? `queue depth ${last.queue.depth}, parked ${last.wal?.parked ?? 'n/a'}, degraded [${last.degraded ?? ''}]`
      : 'no health report'
    throw new Error(`${error.message}; ${where}`)
  })
  await engine.flush()
}

/**
 * Waits until L3 answers and nothing is degraded or parked, while writes may still be arriving
 * (the queue need not be empty). Bounded like `drain`.
 */
export async function recovered(engine: SyncEngine, attempts = 600): Promise<void> {
  let last: (DrainHealth & { readonly l3: { readonly ok: boolean } }) | undefined
  await waitFor(
    'the engine recovering (L3 answering, nothing parked or degraded)',
    async () => {
      const health = (await engine.health()) as DrainHealth & { readonly l3: { readonly ok: boolean } }
      last = health
      return health.l3.ok && (health.wal?.parked ?? 0) === 0 && (health.degraded ?? []).length === 0
    },
    attempts,
  ).catch((error: Error) => {
    const where = last
      ? `L3 ok ${last.l3.ok}, parked ${last.wal?.parked ?? 'n/a'}, degraded [${last.degraded ?? ''}]`
      : ''
    throw new Error(`${error.message}; ${where}`)
  })
}
