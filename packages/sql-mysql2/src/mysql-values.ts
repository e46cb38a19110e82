import type { SqlResult, SqlRow, SqlValue } from '@sync-engine/core'
import type { ExecuteValues, FieldPacket, ResultSetHeader, RowDataPacket } from 'mysql2/promise'

/** MySQL's BIGINT column type. */
const LONGLONG = 8

/** A parameter as mysql2 binds it: bytes as a Buffer view (sent as a BLOB, not copied). */
export function toDriverValue(value: SqlValue): ExecuteValues {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  }
  return value
}

/**
 * A statement's parameters as mysql2 binds them. Only bytes that are not a Buffer need converting:
 * without any (JSON rows, ids, numbers) the array goes as it is, not copied (an upsert binds tens
 * of thousands). mysql2 only reads it.
 */
export function toDriverValues(params: readonly SqlValue[]): ExecuteValues[] {
  for (let i = 0; i < params.length; i++) {
    const value = params[i]
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return params.map(toDriverValue)
  }
  return params as ExecuteValues[]
}

/**
 * A driver result as a `SqlResult`. Binary columns are copied out of mysql2's packet buffers (a
 * view would pin the whole network chunk in memory for as long as the caller caches the bytes).
 * BIGINTs arrive as numbers when exact (`supportBigNumbers`) and as strings otherwise: those
 * become bigints, so no value is ever rounded.
 */
export function toSqlResult(result: unknown, fields: readonly FieldPacket[] | undefined): SqlResult {
  if (!Array.isArray(result)) return headerResult(result as ResultSetHeader)
  const bigints = new Set(
    (fields ?? []).filter((field) => field.columnType === LONGLONG).map((field) => field.name),
  )
  return { rows: (result as RowDataPacket[]).map((row) => toSqlRow(row, bigints)), affectedRows: 0 }
}

function toSqlRow(row: RowDataPacket, bigints: ReadonlySet<string>): SqlRow {
  const out: Record<string, SqlValue> = {}
  for (const [name, value] of Object.entries(row)) out[name] = toSqlValue(value, bigints.has(name))
  return out
}

function toSqlValue(value: unknown, bigint: boolean): SqlValue {
  if (value === null || value === undefined) return null
  if (value instanceof Uint8Array) return new Uint8Array(value)
  if (typeof value === 'string') return bigint ? BigInt(value) : value
  if (typeof value === 'number' || typeof value === 'bigint') return value
  // Dates and DECIMALs come as strings (dateStrings); anything else is not a column of ours.
  return String(value)
}

/**
 * A multi-row INSERT … ON DUPLICATE KEY UPDATE reports `Records: r  Duplicates: d  Warnings: w`:
 * of its r rows, d met an existing one. With FOUND_ROWS (the transport's flags) such a row counts
 * 2 in affectedRows when updated and 1 when left as it was, an insert 1: the updated ones are
 * affectedRows − r, and the rest of the d were left (the version guard kept a newer row).
 */
const UPSERT_SUMMARY = /^Records: (\d+) {2}Duplicates: (\d+) /

function headerResult(header: ResultSetHeader): SqlResult {
  const affectedRows = header.affectedRows ?? 0
  const summary = typeof header.info === 'string' ? UPSERT_SUMMARY.exec(header.info) : null
  if (summary === null) return { rows: [], affectedRows }
  const unchangedRows = Number(summary[2]) - (affectedRows - Number(summary[1]))
  // A count that does not add up (another server's arithmetic) is no count at all.
  return unchangedRows >= 0 ? { rows: [], affectedRows, unchangedRows } : { rows: [], affectedRows }
}
