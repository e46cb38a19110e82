import { InvalidArgumentError, InvalidIdError, InvalidJsonError, PayloadTooLargeError } from '../errors.ts'
import type { ContentType } from '../item/sync-item.ts'
import { COLUMN_LIMITS, ITEM_COLUMNS } from './sql-dialect.ts'
import type { SqlRow, SqlValue } from './sql-transport.ts'
import type { RecordHead, StoredRecord } from './stored-record.ts'

const encoder = new TextEncoder()
/** Reads never throw on odd bytes, and keep a leading U+FEFF (an id may start with one). */
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
/** Writes refuse JSON that is not UTF-8 rather than store U+FFFD, and keep a leading BOM as bytes. */
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Per parameter on MySQL's binary protocol: a length (at most 9 bytes) and a type (2). */
const PARAM_OVERHEAD = 11
/** An integer parameter travels as an 8-byte number. */
const NUMBER_BYTES = 8
/** Integer columns: version, updated_at, tombstone, expires_at. */
const NUMBER_COLUMNS = 4
/** The bytes of a record's columns other than its content, at their limits: sizes `maxContentBytes`. */
export const MAX_METADATA_BYTES =
  ITEM_COLUMNS.length * PARAM_OVERHEAD +
  COLUMN_LIMITS.idBytes +
  NUMBER_COLUMNS * NUMBER_BYTES +
  COLUMN_LIMITS.hashLength +
  3 * COLUMN_LIMITS.stateLength +
  'binary'.length +
  COLUMN_LIMITS.mimeLength

/** A validated record, with the parameters of its row and the bytes they add to a statement. */
export interface Row {
  readonly record: StoredRecord
  /** The JSON text (payload column), or null for binary items and tombstones. */
  readonly text: string | null
  /** At most this many bytes (see `priceRow`); 0 when the transport sets no limit. */
  readonly bytes: number
}

/** The row's parameters in ITEM_COLUMNS order, pushed onto `params` (no array per row on the hot path). */
export function pushRowParams(params: SqlValue[], { record, text }: Row): void {
  params.push(
    record.id,
    record.version,
    record.updatedAt,
    record.hash,
    record.state,
    record.contentType,
    record.mime,
    text,
    text === null && !record.tombstone ? record.content : null,
    record.tombstone ? 1 : 0,
    record.tombstone || !record.expiresAt ? null : record.expiresAt,
  )
}

/** The row's parameters in UPDATED_COLUMNS order (everything but `id`, `version` last). */
export function updatedParams(row: Row): SqlValue[] {
  const values: SqlValue[] = []
  pushRowParams(values, row)
  return [...values.slice(2), values[1]!]
}

/**
 * Validates a record and prices its row against `limit` (the transport's `maxStatementBytes`);
 * an error says why it cannot be stored. `statementBytes` and `rowSqlBytes` are what an upsert
 * costs besides its rows and what each row adds in SQL text.
 */
export function priceRow(
  record: StoredRecord,
  limit: number | undefined,
  statementBytes: number,
  rowSqlBytes: number,
): Row | Error {
  const { id } = record
  if (typeof id !== 'string' || id.length === 0 || !id.isWellFormed()) {
    return new InvalidIdError('id must be a non-empty string of well-formed UTF-16')
  }
  // Each UTF-16 unit is at most 3 UTF-8 bytes: short ids need no count.
  const idBytes = id.length * 3 <= COLUMN_LIMITS.idBytes ? id.length : utf8Length(id)
  if (idBytes > COLUMN_LIMITS.idBytes) {
    return new InvalidIdError(`id is ${idBytes} bytes of UTF-8; the limit is ${COLUMN_LIMITS.idBytes}`)
  }
  if (!Number.isSafeInteger(record.version) || record.version < 0) {
    return new InvalidArgumentError(`version must be a non-negative safe integer, got ${record.version}`)
  }
  if (!Number.isSafeInteger(record.updatedAt)) {
    return new InvalidArgumentError(`updatedAt must be a safe integer, got ${record.updatedAt}`)
  }
  if (record.expiresAt !== undefined && !(Number.isSafeInteger(record.expiresAt) && record.expiresAt >= 0)) {
    return new InvalidArgumentError(`expiresAt must be a non-negative safe integer, got ${record.expiresAt}`)
  }
  const tooLong = overLimit(record)
  if (tooLong !== undefined) return new InvalidArgumentError(tooLong)
  let payload: string | null = null
  let contentBytes = 0
  if (!record.tombstone) {
    if (!(record.content instanceof Uint8Array)) {
      return new InvalidArgumentError('a record that is not a tombstone needs content')
    }
    contentBytes = record.content.byteLength
    if (record.contentType === 'json') {
      try {
        payload = strictDecoder.decode(record.content)
      } catch {
        return new InvalidJsonError(`JSON content of ${JSON.stringify(id)} is not valid UTF-8`)
      }
    }
  }
  // Without a statement-size limit (SQLite) rows need no price: only the row count bounds a statement.
  if (limit === undefined) return { record, text: payload, bytes: 0 }
  const fixed = ITEM_COLUMNS.length * PARAM_OVERHEAD + NUMBER_COLUMNS * NUMBER_BYTES + rowSqlBytes
  const { hash, state, contentType, mime } = record
  // The text columns at 3 bytes per UTF-16 unit: an upper bound that needs no pass over them (the
  // pass cost more than the rest of this function). Only a row that does not fit at that price is
  // counted exactly, so the announced `maxContentBytes` still fits.
  let metadata = fixed + 3 * (id.length + hash.length + state.length + contentType.length + mime.length)
  if (statementBytes + metadata + contentBytes > limit) {
    metadata =
      fixed +
      utf8Length(id) +
      utf8Length(hash) +
      utf8Length(state) +
      utf8Length(contentType) +
      utf8Length(mime)
    if (statementBytes + metadata + contentBytes > limit) {
      return new PayloadTooLargeError(contentBytes, Math.max(0, limit - statementBytes - metadata))
    }
  }
  return { record, text: payload, bytes: metadata + contentBytes }
}

/** Why a record's short columns do not fit, or undefined. */
function overLimit(record: StoredRecord): string | undefined {
  if (typeof record.state !== 'string' || record.state.length > COLUMN_LIMITS.stateLength) {
    return `state must be a string of at most ${COLUMN_LIMITS.stateLength} characters`
  }
  if (typeof record.mime !== 'string' || record.mime.length > COLUMN_LIMITS.mimeLength) {
    return `mime must be a string of at most ${COLUMN_LIMITS.mimeLength} characters`
  }
  if (typeof record.hash !== 'string' || record.hash.length > COLUMN_LIMITS.hashLength) {
    return `hash must be a string of at most ${COLUMN_LIMITS.hashLength} characters`
  }
  return undefined
}

/** Bytes of `text` in UTF-8, without encoding it (a lone surrogate counts as U+FFFD, 3 bytes). */
function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

export function recordFromRow(row: SqlRow): StoredRecord {
  const tombstone = Number(row.tombstone) === 1
  const contentType = asText(row.content_type) as ContentType
  let content: Uint8Array | null = null
  if (!tombstone) {
    if (contentType === 'json') content = encoder.encode(asText(row.payload))
    else content = asBytes(row.payload_blob)
  }
  const record: StoredRecord = {
    id: asText(row.id),
    version: Number(row.version),
    updatedAt: Number(row.updated_at),
    hash: asText(row.hash),
    state: asText(row.state),
    contentType,
    mime: asText(row.mime),
    content,
    tombstone,
  }
  const expiresAt = row.expires_at
  return expiresAt === null || expiresAt === undefined ? record : { ...record, expiresAt: Number(expiresAt) }
}

export function headFromRow(row: SqlRow): RecordHead {
  const head = { id: asText(row.id), version: Number(row.version), tombstone: Number(row.tombstone) === 1 }
  const expiresAt = row.expires_at
  return expiresAt === null || expiresAt === undefined ? head : { ...head, expiresAt: Number(expiresAt) }
}

/** Text columns arrive as strings; binary ones (MySQL's VARBINARY id and state) as bytes of UTF-8. */
export function asText(value: SqlValue | undefined): string {
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array) return decoder.decode(value)
  if (value === null || value === undefined) return ''
  return String(value)
}

function asBytes(value: SqlValue | undefined): Uint8Array {
  // Drivers hand back Node Buffers; callers get a plain Uint8Array view (no copy), whichever tier answered.
  if (value instanceof Uint8Array) {
    return value.constructor === Uint8Array
      ? value
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  }
  if (typeof value === 'string') return encoder.encode(value)
  return new Uint8Array(0)
}
