import type { SyncItem } from '../item/sync-item.ts'

/** What L1 holds for an id: the item, or a tombstone (`item: null`) so a delete reads as absent. */
export interface L1Entry {
  readonly id: string
  readonly item: SyncItem | null
  readonly version: number
  /** Epoch ms after which the entry is gone; 0 for never. */
  readonly expiresAt: number
}

const TOMBSTONE_OVERHEAD_BYTES = 96

export function l1EntryBytes(entry: L1Entry): number {
  return entry.item ? entry.item.footprintBytes : 2 * entry.id.length + TOMBSTONE_OVERHEAD_BYTES
}
