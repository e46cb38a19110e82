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
  /** Epoch ms when a cache copy expires (L2 entries with a TTL); absent means no expiry. */
  readonly expiresAt?: number
}
