import type { Cast, ExecutedQuery, Field } from '@planetscale/database'
import type { SqlResult, SqlRow, SqlValue } from '@sync-engine/core'

/** Vitess names of 64-bit integers: exact as numbers only up to 2^53. */
const INT64 = new Set(['INT64', 'UINT64'])
/** Integers that always fit a number. */
const INTEGERS = new Set(['INT8', 'INT16', 'INT24', 'INT32', 'UINT8', 'UINT16', 'UINT24', 'UINT32', 'YEAR'])
const FLOATS = new Set(['FLOAT32', 'FLOAT64'])
/** ASCII text whose exact digits matter (DECIMAL) or that the engine never reads (dates): kept as text. */
const AS_TEXT = new Set(['DECIMAL', 'DATETIME', 'DATE', 'TIMESTAMP', 'TIME', 'BIT'])
/** MySQL's `binary` character set: what the server says of BLOB/VARBINARY columns (and of numbers). */
const BINARY_CHARSET = 63

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })

/**
 * The client's `cast`, replaced. Each value reaches it as a "binary string" (one UTF-16 unit per
 * byte, from `atob`). The default cast would parse JSON columns (the store needs the text byte for
 * byte: key order, spacing, big numbers) and turn every BIGINT into a string; this one keeps JSON
 * as its text, returns integers as numbers when exact and as bigints otherwise (as the mysql2
 * transport does, so `Number(row.version)` never rounds), and binary columns as fresh Uint8Arrays.
 */
export const castValue: Cast = (field: Field, value: string | null): SqlValue => {
  if (value === null || value === undefined) return null
  const type = field.type
  if (INT64.has(type)) {
    const number = Number(value)
    return Number.isSafeInteger(number) ? number : BigInt(value)
  }
  if (INTEGERS.has(type)) return Number.parseInt(value, 10)
  if (FLOATS.has(type)) return Number.parseFloat(value)
  if (AS_TEXT.has(type)) return value
  // Checked after the numeric types: the server gives numbers the binary charset too.
  if (field.charset === BINARY_CHARSET && type !== 'JSON') return bytesOf(value)
  return utf8.decode(bytesOf(value))
}

/** A binary string's bytes. A loop, not the client's `split('')`: a 16 MiB column is one pass, no array of strings. */
function bytesOf(binary: string): Uint8Array {
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** The client's answer as a `SqlResult` (rows already cast by `castValue`). */
export function toSqlResult(result: ExecutedQuery): SqlResult {
  return { rows: result.rows as SqlRow[], affectedRows: result.rowsAffected }
}
