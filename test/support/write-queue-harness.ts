import {
  type FlushOutcome,
  type QueuedWrite,
  type Route,
  SyncItem,
  WriteQueue,
} from '@sync-engine/core/internal'
import { FakePlatform } from './fake-platform.ts'

const ROUTE: Route = { l2: false, l3: true, ttlMs: undefined }

/** A queued put of `id` at `version`, holding `bytes` bytes. */
export function put(id: string, version: number, bytes = 10): QueuedWrite {
  const item = SyncItem.fromBinary(id, new TextEncoder().encode(`${id}@${version}`)).withVersion(
    version,
    version,
  )
  return { id, version, updatedAt: version, item, route: ROUTE, bytes, callerVersioned: false, expiresAt: 0 }
}

/** A queued tombstone of `id` at `version`. */
export function tombstone(id: string, version: number, bytes = 10): QueuedWrite {
  return {
    id,
    version,
    updatedAt: version,
    item: null,
    route: ROUTE,
    bytes,
    callerVersioned: false,
    expiresAt: 0,
  }
}

interface HeldCall {
  readonly batch: readonly QueuedWrite[]
  resolve(outcome: FlushOutcome): void
  reject(error: Error): void
}

/**
 * A WriteQueue on a fake platform whose `flushBatch` records every batch and answers as told:
 * `'ok'` (everything written), `'fail'` (throws), or `'hold'` (stays pending until the test
 * answers through `held`).
 */
export class QueueHarness {
  readonly platform = new FakePlatform()
  readonly batches: QueuedWrite[][] = []
  readonly held: HeldCall[] = []
  readonly errors: { error: Error; ids: number }[] = []
  mode: 'ok' | 'fail' | 'hold' = 'ok'
  readonly queue: WriteQueue

  constructor(thresholds: { maxCount?: number; maxBytes?: number; maxAgeMs?: number } = {}) {
    this.queue = new WriteQueue({
      maxCount: thresholds.maxCount ?? 1000,
      maxBytes: thresholds.maxBytes ?? 1_000_000,
      maxAgeMs: thresholds.maxAgeMs ?? 100,
      platform: this.platform,
      flushBatch: (batch) => this.#flushBatch(batch),
      onFlushError: (error, ids) => this.errors.push({ error, ids }),
    })
  }

  #flushBatch(batch: readonly QueuedWrite[]): Promise<FlushOutcome> {
    this.batches.push([...batch])
    if (this.mode === 'fail') return Promise.reject(new Error('tier down'))
    if (this.mode === 'ok') return Promise.resolve({ written: batch.length, failed: new Map() })
    return new Promise((resolve, reject) => this.held.push({ batch, resolve, reject }))
  }

  /** Ids (with versions) of the n-th batch, sorted, as `id@version`. */
  batchKeys(index: number): string[] {
    const batch = this.batches[index]
    if (batch === undefined) throw new Error(`no batch #${index}; ${this.batches.length} flushed`)
    return batch.map((w) => `${w.id}@${w.version}${w.item === null ? '(deleted)' : ''}`).sort()
  }
}

/** Settles every promise chain that does not wait for a timer. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
