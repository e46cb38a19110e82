import { type AckLevel, isSyncError, type SyncEngine, SyncItem } from '@sync-engine/core'
import type { Observed, WriteResult } from './history.ts'
import type { WriteTarget } from './write-target.ts'

/**
 * Errors thrown before a write reaches the queue: the engine refused it, nothing was applied.
 * Anything else (a `FlushError` for `stored`, a backend error…) leaves the write queued and
 * retried, so its outcome is unknown.
 */
const REFUSED_BEFORE_QUEUEING = new Set([
  'ENGINE_STATE',
  'INVALID_ID',
  'INVALID_ARGUMENT',
  'INVALID_JSON',
  'PAYLOAD_TOO_LARGE',
  'NO_TIER',
  'BACKPRESSURE',
])

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Writes and reads on a `SyncEngine` in this process, at `ack` (the engine's default when omitted). */
export function engineTarget(engine: SyncEngine, ack?: AckLevel): WriteTarget {
  const options = ack === undefined ? undefined : { ack }
  return {
    async put(id, content) {
      try {
        // Text that does not start with { or [: stored as binary, byte for byte.
        const receipt = await engine.submit(SyncItem.fromBytes(id, encoder.encode(content)), options)
        return { kind: 'acked', ack: receipt.ack, version: receipt.version }
      } catch (error) {
        return classify(error)
      }
    },
    async delete(id) {
      try {
        const receipt = await engine.delete(id, options)
        return { kind: 'acked', ack: receipt.ack, version: receipt.version }
      } catch (error) {
        return classify(error)
      }
    },
    async get(id) {
      return observedOf(await engine.get(id))
    },
  }
}

export function observedOf(item: SyncItem | undefined): Observed {
  if (item === undefined) return { present: false }
  return { present: true, version: item.version, content: decoder.decode(item.content) }
}

function classify(error: unknown): WriteResult {
  const reason = isSyncError(error) ? `${error.code}: ${error.message}` : String(error)
  if (isSyncError(error) && REFUSED_BEFORE_QUEUEING.has(error.code)) return { kind: 'failed', reason }
  return { kind: 'unknown', reason }
}
