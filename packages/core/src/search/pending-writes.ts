import type { SyncItem } from '../item/sync-item.ts'

/** A write this engine acknowledged that L3 may not hold yet: the item, or null for a delete. */
export interface PendingWrite {
  readonly id: string
  readonly version: number
  readonly item: SyncItem | null
  /** Epoch ms when the item expires, 0 for never. */
  readonly expiresAt: number
}

/**
 * Where searches and listings find what this engine acknowledged and L3 does not answer for yet
 * (read your writes): the write queue, the writes parked in the log while L3 was down, and the
 * writes this engine put in the Redis outbox.
 */
export interface PendingWrites {
  /** The newest pending write of each id under `prefix` (literal) bound for L3. */
  under(prefix: string): Promise<PendingWrite[]>
  /** L3 holds `version` of `id`, or a newer one: what is pending for it at that version or below is done. */
  settled(id: string, version: number): void
}

/** The newest of several sources' pending writes per id. */
export function mergePending(sources: readonly PendingWrite[][]): PendingWrite[] {
  if (sources.length === 1) return sources[0]!
  const newest = new Map<string, PendingWrite>()
  for (const source of sources) {
    for (const write of source) {
      const seen = newest.get(write.id)
      if (seen === undefined || seen.version < write.version) newest.set(write.id, write)
    }
  }
  return [...newest.values()]
}
