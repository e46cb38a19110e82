import type { ContentType } from '../item/sync-item.ts'

/** An item or tombstone as a tier stores it. */
export interface StoredRecord {
  readonly id: string
  readonly version: number
  readonly updatedAt: number
  readonly hash: string
  readonly state: string
  readonly contentType: ContentType
  readonly mime: string
  /** null for a tombstone. */
  readonly content: Uint8Array | null
  readonly tombstone: boolean
  /**
   * Epoch ms when the item expires — in every tier it is in, L3 included: an expired record is
   * never served and never back-filled. Absent (or 0) means no expiry.
   */
  readonly expiresAt?: number
}

/** What an existence check needs of a record: no content (`contains`, `status`). */
export interface RecordHead {
  readonly id: string
  readonly version: number
  readonly tombstone: boolean
  readonly expiresAt?: number
}

/** Whether a record (or its head) is a live item at `now`: not a tombstone, not expired. */
export function isLive(record: RecordHead | undefined, now: number): record is RecordHead {
  if (record === undefined || record.tombstone) return false
  const expiresAt = record.expiresAt ?? 0
  return expiresAt === 0 || expiresAt > now
}
