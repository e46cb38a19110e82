import { InvalidArgumentError } from '../errors.ts'
import { validateVersion } from '../item/sync-item.ts'
import type { RecordHead, StoredRecord } from '../l3/stored-record.ts'
import { CorruptValue } from './corrupt-value.ts'

/**
 * The L2 value: one Redis string holding a binary header and the exact content bytes, so one GET
 * returns the item with all its metadata (the original needed TYPE then GET) and JSON comes back
 * byte for byte (the Rust original re-serialised it through RedisJSON).
 *
 * Format 1, big-endian:
 *
 *   offset  size  field
 *   0       3     magic 0xFF 'S' 'E' (0xFF never starts UTF-8 text, so no JSON or text value
 *                 written by someone else can pass for an envelope)
 *   3       1     format (1)                  ─┐ fixed in every format: the Lua version guard
 *   4       8     version, unsigned            │ reads only these 16 bytes and the flags
 *   12      4     total length of the value    │ (GETRANGE 0 16), and compares the length
 *   16      1     flags: 1 tombstone, 2 JSON  ─┘ with STRLEN to spot damage
 *                 content, 4 hash present, 8 expiry present
 *   17      8     updatedAt (epoch ms), unsigned
 *   25      8     expiresAt (epoch ms), unsigned (only when flag 8): L1 copies expire with the key
 *   …       32    hash, raw SHA-256 bytes (only when flag 4)
 *   …       2+n   state, UTF-8, length-prefixed
 *   …       2+n   mime, UTF-8, length-prefixed
 *   …       rest  content (none for a tombstone)
 *
 * Every length is checked on decode, so a truncated or padded value is reported as corrupt.
 */
export const ENVELOPE_MAGIC = Uint8Array.of(0xff, 0x53, 0x45)
export const ENVELOPE_FORMAT = 1
/** Bytes the Lua guard reads: magic, format, version, total length. */
export const ENVELOPE_GUARD_BYTES = 16
const FIXED_BYTES = 25

const FLAG_TOMBSTONE = 1
const FLAG_JSON = 2
const FLAG_HASH = 4
const FLAG_EXPIRY = 8
const KNOWN_FLAGS = FLAG_TOMBSTONE | FLAG_JSON | FLAG_HASH | FLAG_EXPIRY
const EXPIRY_BYTES = 8
const HASH_BYTES = 32
const MAX_SHORT_STRING = 0xffff
const MAX_TOTAL = 0xffffffff
const TWO_32 = 2 ** 32
const HEX_HASH = /^[0-9a-f]{64}$/i

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeEnvelope(record: StoredRecord): Uint8Array {
  validateVersion(record.version)
  if (!Number.isSafeInteger(record.updatedAt) || record.updatedAt < 0) {
    throw new InvalidArgumentError(`updatedAt must be a non-negative safe integer, got ${record.updatedAt}`)
  }
  const hasHash = record.hash !== ''
  if (hasHash && !HEX_HASH.test(record.hash)) {
    throw new InvalidArgumentError('hash must be 64 hex digits (SHA-256) or empty')
  }
  const content = record.tombstone ? EMPTY : record.content
  if (content === null) throw new InvalidArgumentError(`record ${JSON.stringify(record.id)} has no content`)
  const state = shortString(record.state, 'state')
  const mime = shortString(record.mime, 'mime')

  const expiresAt = record.expiresAt ?? 0
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) {
    throw new InvalidArgumentError(`expiresAt must be a non-negative safe integer, got ${expiresAt}`)
  }
  const hasExpiry = expiresAt > 0
  const header =
    FIXED_BYTES +
    (hasExpiry ? EXPIRY_BYTES : 0) +
    (hasHash ? HASH_BYTES : 0) +
    2 +
    state.length +
    2 +
    mime.length
  const total = header + content.byteLength
  if (total > MAX_TOTAL) throw new InvalidArgumentError('content too large for one Redis value')
  // `at` counts from the envelope's first byte; `base` is where that byte is in `out`/`view`.
  const { bytes: out, view, base } = allocate(total)
  out.set(ENVELOPE_MAGIC, base)
  out[base + 3] = ENVELOPE_FORMAT
  writeUint64(view, base + 4, record.version)
  view.setUint32(base + 12, total)
  out[base + 16] =
    (record.tombstone ? FLAG_TOMBSTONE : 0) |
    (record.contentType === 'json' ? FLAG_JSON : 0) |
    (hasHash ? FLAG_HASH : 0) |
    (hasExpiry ? FLAG_EXPIRY : 0)
  writeUint64(view, base + 17, record.updatedAt)
  let at = base + FIXED_BYTES
  if (hasExpiry) {
    writeUint64(view, at, expiresAt)
    at += EXPIRY_BYTES
  }
  if (hasHash) {
    for (let i = 0; i < HASH_BYTES; i++) {
      out[at + i] =
        (HEX_VALUE[record.hash.charCodeAt(2 * i)]! << 4) | HEX_VALUE[record.hash.charCodeAt(2 * i + 1)]!
    }
    at += HASH_BYTES
  }
  view.setUint16(at, state.length)
  out.set(state, at + 2)
  at += 2 + state.length
  view.setUint16(at, mime.length)
  out.set(mime, at + 2)
  at += 2 + mime.length
  out.set(content, at)
  return base === 0 && out.byteLength === total ? out : out.subarray(base, base + total)
}

/**
 * Small envelopes are carved from shared 64 KiB slabs. A typed array of more than 64 bytes gets an
 * off-heap backing store of its own, which took ~2.2 µs to create here — as long as all the rest of
 * an encoding; `Buffer.allocUnsafe` pools the same way but is Node-only, and the core also runs on
 * Workers. A slab is freed once every envelope carved from it is: envelopes are short-lived (sent
 * to Redis, then dropped). Regions are never reused, so each starts zeroed like a new array.
 */
const SLAB_BYTES = 64 * 1024
const SMALL_ENVELOPE_BYTES = 4 * 1024
let slab = new Uint8Array(0)
let slabView = new DataView(slab.buffer)
let slabUsed = 0

function allocate(size: number): { bytes: Uint8Array; view: DataView; base: number } {
  if (size > SMALL_ENVELOPE_BYTES) {
    const bytes = new Uint8Array(size)
    return { bytes, view: new DataView(bytes.buffer), base: 0 }
  }
  if (slabUsed + size > slab.byteLength) {
    slab = new Uint8Array(SLAB_BYTES)
    slabView = new DataView(slab.buffer)
    slabUsed = 0
  }
  const base = slabUsed
  // 8-byte steps keep the next region aligned (cheap, and friendlier to DataView writes).
  slabUsed += (size + 7) & ~7
  return { bytes: slab, view: slabView, base }
}

/**
 * Decodes a value read at the item key of `id`. Never throws: anything that is not a well-formed
 * envelope comes back as a `CorruptValue`. The content is copied out, so the record owns exactly
 * its bytes and does not keep a driver's larger receive buffer alive (L1 accounts item bytes).
 */
export function decodeEnvelope(id: string, bytes: Uint8Array): StoredRecord | CorruptValue {
  if (bytes.byteLength < FIXED_BYTES)
    return new CorruptValue(id, `value of ${bytes.byteLength} bytes is shorter than a header`)
  if (bytes[0] !== 0xff || bytes[1] !== 0x53 || bytes[2] !== 0x45)
    return new CorruptValue(id, 'not an envelope (bad magic)')
  if (bytes[3] !== ENVELOPE_FORMAT) return new CorruptValue(id, `unknown envelope format ${bytes[3]}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = readUint64(view, 4)
  const total = view.getUint32(12)
  if (total !== bytes.byteLength)
    return new CorruptValue(id, `value is ${bytes.byteLength} bytes, header says ${total}`)
  const flags = bytes[16]!
  const updatedAt = readUint64(view, 17)
  if (!Number.isSafeInteger(version) || version <= 0) return new CorruptValue(id, 'version out of range')
  if (!Number.isSafeInteger(updatedAt)) return new CorruptValue(id, 'updatedAt out of range')
  if ((flags & ~KNOWN_FLAGS) !== 0) return new CorruptValue(id, `unknown flags ${flags}`)
  let at = FIXED_BYTES
  let expiresAt = 0
  if (flags & FLAG_EXPIRY) {
    if (at + EXPIRY_BYTES > bytes.byteLength) return new CorruptValue(id, 'truncated in the expiry')
    expiresAt = readUint64(view, at)
    if (!Number.isSafeInteger(expiresAt)) return new CorruptValue(id, 'expiresAt out of range')
    at += EXPIRY_BYTES
  }
  let hash = ''
  if (flags & FLAG_HASH) {
    if (at + HASH_BYTES > bytes.byteLength) return new CorruptValue(id, 'truncated in the hash')
    hash = toHex(bytes, at, at + HASH_BYTES)
    at += HASH_BYTES
  }
  const state = readShortString(bytes, view, at, 'state')
  if (typeof state !== 'string') return new CorruptValue(id, state.problem)
  at += 2 + view.getUint16(at)
  const mime = readShortString(bytes, view, at, 'mime')
  if (typeof mime !== 'string') return new CorruptValue(id, mime.problem)
  at += 2 + view.getUint16(at)
  const tombstone = (flags & FLAG_TOMBSTONE) !== 0
  if (tombstone && at !== bytes.byteLength) return new CorruptValue(id, 'tombstone with content')
  const record: StoredRecord = {
    id,
    version,
    updatedAt,
    hash,
    state,
    mime,
    contentType: flags & FLAG_JSON ? 'json' : 'binary',
    // Copied out (also from a Node Buffer, whose own slice would be a view): the record owns
    // exactly its bytes and does not keep a driver's larger receive buffer alive.
    content: tombstone ? null : copyOf(bytes, at),
    tombstone,
  }
  return expiresAt > 0 ? { ...record, expiresAt } : record
}

/**
 * A length-prefixed UTF-8 string at `at`, or what is wrong with it. States and mime types repeat
 * ('default', 'application/json', …): the last few decoded are remembered by their bytes, so the
 * common case costs a byte comparison instead of a TextDecoder call (~1 µs each here).
 */
function readShortString(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  field: string,
): string | { readonly problem: string } {
  if (at + 2 > bytes.byteLength) return { problem: `truncated before ${field}` }
  const length = view.getUint16(at)
  const start = at + 2
  const end = start + length
  if (end > bytes.byteLength) return { problem: `truncated in ${field}` }
  for (const known of decodedStrings) {
    if (known.bytes.length === length && sameBytes(known.bytes, bytes, start)) return known.text
  }
  let text: string
  try {
    text = decoder.decode(bytes.subarray(start, end))
  } catch {
    return { problem: `${field} is not UTF-8` }
  }
  if (length <= CACHED_STRING_LENGTH) {
    if (decodedStrings.length >= DECODED_STRING_CACHE) decodedStrings.shift()
    decodedStrings.push({ bytes: copyOf(bytes.subarray(0, end), start), text })
  }
  return text
}

/** A plain Uint8Array copy of `bytes` from `at` (never a Buffer view or a Buffer subclass). */
function copyOf(bytes: Uint8Array, at: number): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength - at)
  copy.set(new Uint8Array(bytes.buffer, bytes.byteOffset + at, copy.byteLength))
  return copy
}

/** Recently decoded short strings (see `readShortString`). */
const decodedStrings: { readonly bytes: Uint8Array; readonly text: string }[] = []
const DECODED_STRING_CACHE = 8

function sameBytes(known: Uint8Array, bytes: Uint8Array, start: number): boolean {
  for (let i = 0; i < known.length; i++) if (known[i] !== bytes[start + i]) return false
  return true
}

/** Bytes of an envelope's head: the fixed header plus the expiry, when there is one. */
export const ENVELOPE_HEAD_BYTES = FIXED_BYTES + EXPIRY_BYTES

/**
 * Decodes the head of a value (its first `ENVELOPE_HEAD_BYTES`, read with GETRANGE) given the
 * value's full length (STRLEN): version, tombstone and expiry, for existence checks. A head that
 * does not belong to a well-formed envelope is a `CorruptValue`.
 */
export function decodeEnvelopeHead(id: string, head: Uint8Array, length: number): RecordHead | CorruptValue {
  const corrupt = (reason: string) => new CorruptValue(id, reason)
  if (head.byteLength < FIXED_BYTES)
    return corrupt(`value of ${head.byteLength} bytes is shorter than a header`)
  if (head[0] !== 0xff || head[1] !== 0x53 || head[2] !== 0x45) return corrupt('not an envelope (bad magic)')
  if (head[3] !== ENVELOPE_FORMAT) return corrupt(`unknown envelope format ${head[3]}`)
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
  const version = readUint64(view, 4)
  const total = view.getUint32(12)
  if (total !== length) return corrupt(`value is ${length} bytes, header says ${total}`)
  const flags = head[16]!
  if (!Number.isSafeInteger(version) || version <= 0) return corrupt('version out of range')
  if ((flags & ~KNOWN_FLAGS) !== 0) return corrupt(`unknown flags ${flags}`)
  const tombstone = (flags & FLAG_TOMBSTONE) !== 0
  if (!(flags & FLAG_EXPIRY)) return { id, version, tombstone }
  if (head.byteLength < FIXED_BYTES + EXPIRY_BYTES) return corrupt('truncated in the expiry')
  const expiresAt = readUint64(view, FIXED_BYTES)
  return expiresAt > 0 ? { id, version, tombstone, expiresAt } : { id, version, tombstone }
}

const EMPTY = new Uint8Array(0)

/**
 * States and mime types repeat ('default', 'application/json', …): their UTF-8 is cached rather
 * than encoded for every write (TextEncoder took ~1.2 µs a call here). Bounded: cleared when full.
 */
const shortStrings = new Map<string, Uint8Array>()
const SHORT_STRING_CACHE = 256
const CACHED_STRING_LENGTH = 256

function shortString(text: string, field: string): Uint8Array {
  const cached = shortStrings.get(text)
  if (cached !== undefined) return cached
  const bytes = encoder.encode(text)
  if (bytes.length > MAX_SHORT_STRING) throw new InvalidArgumentError(`${field} is too long`)
  if (text.length <= CACHED_STRING_LENGTH) {
    if (shortStrings.size >= SHORT_STRING_CACHE) shortStrings.clear()
    shortStrings.set(text, bytes)
  }
  return bytes
}

// Safe integers need 53 bits; the two 32-bit halves keep the arithmetic exact (no BigInt).
function writeUint64(view: DataView, at: number, value: number): void {
  view.setUint32(at, Math.floor(value / TWO_32))
  view.setUint32(at + 4, value % TWO_32)
}

function readUint64(view: DataView, at: number): number {
  return view.getUint32(at) * TWO_32 + view.getUint32(at + 4)
}

// Lookup tables: the hash is converted on every encode and decode, and per-byte toString/parseInt
// measured 3–6× slower on this hot path.
const HEX_DIGITS = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))
const HEX_VALUE = (() => {
  const table = new Uint8Array(128)
  for (let i = 0; i < 16; i++) {
    table['0123456789abcdef'.charCodeAt(i)] = i
    table['0123456789ABCDEF'.charCodeAt(i)] = i
  }
  return table
})()

function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let hex = ''
  for (let i = start; i < end; i++) hex += HEX_DIGITS[bytes[i]!]
  return hex
}
