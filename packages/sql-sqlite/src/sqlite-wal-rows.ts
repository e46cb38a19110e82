import { type ContentType, type PendingWrite, SyncItem } from '@sync-engine/core'

/**
 * Bytes an entry counts for beyond its content and its id (UTF-8), in `stats().bytes` and against
 * `maxBytes`: an estimate of the row's metadata (numbers, hash, mime, state, flags, index entry).
 * Each row stores the bytes it counted, so removing it subtracts exactly that even if this changes.
 */
export const WAL_ENTRY_OVERHEAD_BYTES = 64

/** What one write counts for against the log's bound. */
export function walEntryBytes(write: PendingWrite): number {
  return (
    (write.item?.content.byteLength ?? 0) + Buffer.byteLength(write.id, 'utf8') + WAL_ENTRY_OVERHEAD_BYTES
  )
}

/**
 * Bumped when the file format changes; a log written by a newer format is refused, not misread.
 * 2: `wal_meta.removed_through` (entries at or below it are removed, whether or not their rows are
 * still in the file). A format-1 file opens as it is and becomes format 2.
 */
export const WAL_FORMAT_VERSION = 2

/**
 * One row per logged write. The item's columns are NULL for a tombstone (`content_type IS NULL`).
 * `item_version` / `item_updated_at` are NULL when they equal the write's (the engine always stamps
 * the item with the write's version), so they cost nothing and the item still comes back exactly.
 * AUTOINCREMENT: a seq is never reused, even after the newest rows were removed, so a reader's
 * `afterSeq` cursor never skips an entry appended later.
 */
export const WAL_SCHEMA = `
CREATE TABLE IF NOT EXISTS wal (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  content_type TEXT CHECK (content_type IN ('json', 'binary')),
  content BLOB,
  mime TEXT,
  hash TEXT,
  state TEXT,
  item_version INTEGER,
  item_updated_at INTEGER,
  l2 INTEGER NOT NULL,
  l3 INTEGER NOT NULL,
  ttl_ms INTEGER,
  expires_at INTEGER NOT NULL,
  caller_versioned INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS wal_id_version ON wal (id, version);
CREATE TABLE IF NOT EXISTS wal_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`

/** The `wal_meta` key of the removal watermark: every entry with `seq` ≤ it is removed. */
export const REMOVED_THROUGH_KEY = 'removed_through'
/** The `wal_meta` key of the L3 the log's writes are for (`WriteAheadLog.bind`), as text. */
export const TARGET_KEY = 'target'

/** The columns an insert binds, in `pushRow` order (`seq` is assigned by SQLite). */
export const INSERT_COLUMNS = [
  'id',
  'version',
  'updated_at',
  'bytes',
  'content_type',
  'content',
  'mime',
  'hash',
  'state',
  'item_version',
  'item_updated_at',
  'l2',
  'l3',
  'ttl_ms',
  'expires_at',
  'caller_versioned',
] as const

const SELECTED = ['seq', ...INSERT_COLUMNS] as const

/** The columns a read selects, in `toLoggedWrite` order: `seq` first, then the inserted ones. */
export const SELECT_COLUMNS = SELECTED.join(', ')

/** Where a selected row holds the content. */
export const CONTENT_COLUMN = SELECTED.indexOf('content')

type SqlParam = string | number | Uint8Array | null

/** Appends one write's parameters to `params` (one multi-row statement binds many); returns its bytes. */
export function pushRow(params: SqlParam[], write: PendingWrite): number {
  const bytes = walEntryBytes(write)
  const item = write.item
  params.push(write.id, write.version, write.updatedAt, bytes)
  if (item === null) {
    params.push(null, null, null, null, null, null, null)
  } else {
    params.push(
      item.contentType,
      item.content,
      item.mime,
      item.hash,
      item.state,
      item.version === write.version ? null : item.version,
      item.updatedAt === write.updatedAt ? null : item.updatedAt,
    )
  }
  const route = write.route
  // SQLite has no boolean and better-sqlite3 binds none: flags are 0 / 1.
  params.push(
    route.l2 ? 1 : 0,
    route.l3 ? 1 : 0,
    route.ttlMs ?? null,
    write.expiresAt,
    write.callerVersioned ? 1 : 0,
  )
  return bytes
}

/** A row as better-sqlite3 returns it in raw mode (an array in `SELECT_COLUMNS` order). */
export type WalRow = readonly unknown[]

/**
 * Rebuilds the write of a row. Versions and times are INTEGER columns read as JS numbers: exact,
 * since every value the engine writes is a safe integer (HLC versions stay below 2^53).
 */
export function toLoggedWrite(row: WalRow): PendingWrite {
  const id = row[1] as string
  const version = row[2] as number
  const updatedAt = row[3] as number
  const contentType = row[5] as ContentType | null
  const item =
    contentType === null
      ? null
      : SyncItem.restore({
          id,
          content: plainBytes(row[6] as Uint8Array | null),
          contentType,
          mime: row[7] as string,
          hash: row[8] as string,
          state: row[9] as string,
          version: (row[10] as number | null) ?? version,
          updatedAt: (row[11] as number | null) ?? updatedAt,
        })
  return {
    id,
    version,
    updatedAt,
    item,
    route: { l2: row[12] === 1, l3: row[13] === 1, ttlMs: (row[14] as number | null) ?? undefined },
    // Only a write with a TTL expires: logs written before expiry was the item's own (in every
    // tier) also stored L1's lifetime here for writes without one.
    expiresAt: row[14] === null ? 0 : (row[15] as number),
    callerVersioned: row[16] === 1,
  }
}

/**
 * A plain Uint8Array over the Buffer better-sqlite3 returns (no copy): items hold Uint8Arrays, and a
 * Buffer would compare and serialise differently. NULL (an empty blob some bindings store as NULL)
 * reads as no bytes: the row is a live item, `content_type` says so.
 */
function plainBytes(blob: Uint8Array | null): Uint8Array {
  if (blob === null) return new Uint8Array(0)
  // Rows from the reader thread already hold plain views.
  if (Object.getPrototypeOf(blob) === Uint8Array.prototype) return blob
  return new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength)
}
