import { SyncItem } from '../item/sync-item.ts'
import type { L2WriteEntry } from '../l2/l2-store.ts'
import type { StoredRecord } from '../l3/stored-record.ts'
import type { PendingWrite } from '../log/write-ahead-log.ts'

/** The record a tier stores for a write: the versioned item (with its expiry), or a tombstone. */
export function recordOf(
  write: Pick<PendingWrite, 'id' | 'version' | 'updatedAt' | 'item' | 'expiresAt'>,
): StoredRecord {
  const item = write.item
  // A versioned item already has every field of a record (no copy on the flush path).
  if (item !== null && write.expiresAt === 0) return item
  if (item !== null) {
    return {
      id: item.id,
      version: item.version,
      updatedAt: item.updatedAt,
      hash: item.hash,
      state: item.state,
      contentType: item.contentType,
      mime: item.mime,
      content: item.content,
      tombstone: false,
      expiresAt: write.expiresAt,
    }
  }
  return {
    id: write.id,
    version: write.version,
    updatedAt: write.updatedAt,
    hash: '',
    state: 'default',
    contentType: 'binary',
    mime: '',
    content: null,
    tombstone: true,
  }
}

/**
 * The L2 entry of a write: the record (with its absolute expiry, so L1 copies made from L2 expire
 * with the key) and the TTL left now. A write whose TTL already ran out is still sent, with 1 ms
 * left: the guard must replace an older copy of the id (else L2 would go on serving a version
 * older than this write), and the key is gone a moment later.
 */
export function l2EntryOf(write: PendingWrite, now: number): L2WriteEntry {
  const record = recordOf(write)
  const condition = write.condition === undefined || write.route.l3 ? {} : { ifVersion: write.condition }
  if (write.expiresAt === 0 || write.item === null) return { record, ...condition }
  return { record, ttlMs: Math.max(1, write.expiresAt - now), ...condition }
}

/** The earlier of two expiry instants, where 0 means none. */
export function earliest(a: number, b: number): number {
  if (a === 0) return b
  if (b === 0) return a
  return Math.min(a, b)
}

export function itemOf(record: StoredRecord): SyncItem {
  return SyncItem.restore({
    id: record.id,
    content: record.content ?? new Uint8Array(0),
    contentType: record.contentType,
    mime: record.mime,
    hash: record.hash,
    state: record.state,
    version: record.version,
    updatedAt: record.updatedAt,
  })
}
