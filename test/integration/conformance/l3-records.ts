import { type StoredRecord, sha256Hex } from '@sync-engine/core/internal'
import { expect } from 'vitest'

/** Records and checks shared by the L3 conformance cases. */

export const T = 1_700_000_000_000
export const MiB = 1024 * 1024
const encoder = new TextEncoder()

export function jsonRecord(
  id: string,
  version: number,
  text = JSON.stringify({ id, version }),
  updatedAt = T,
): StoredRecord {
  const content = encoder.encode(text)
  return {
    id,
    version,
    updatedAt,
    hash: sha256Hex(content),
    state: 'default',
    contentType: 'json',
    mime: 'application/json',
    content,
    tombstone: false,
  }
}

export function binaryRecord(id: string, version: number, content: Uint8Array, updatedAt = T): StoredRecord {
  return {
    id,
    version,
    updatedAt,
    hash: sha256Hex(content),
    state: 'default',
    contentType: 'binary',
    mime: 'application/octet-stream',
    content,
    tombstone: false,
  }
}

/** A tombstone as the engine writes one. */
export function tombstone(id: string, version: number, updatedAt = T): StoredRecord {
  return {
    id,
    version,
    updatedAt,
    hash: '',
    state: 'default',
    contentType: 'binary',
    mime: '',
    content: null,
    tombstone: true,
  }
}

/** Byte-identical, without a 16 MiB diff in the failure message. */
export function expectSameBytes(got: Uint8Array | null | undefined, want: Uint8Array): void {
  expect(got, 'content').toBeInstanceOf(Uint8Array)
  expect(got!.byteLength, 'content length').toBe(want.byteLength)
  expect(Buffer.compare(Buffer.from(got!), Buffer.from(want)), 'content bytes').toBe(0)
}

/** Every field equal, content byte for byte. */
export function expectSameRecord(got: StoredRecord | undefined, want: StoredRecord): void {
  expect(got, `record ${want.id}`).toBeDefined()
  const { content, ...rest } = got!
  const { content: wanted, ...wantedRest } = want
  expect(rest).toEqual(wantedRest)
  if (wanted === null) expect(content).toBeNull()
  else expectSameBytes(content, wanted)
}

/** UTF-8 byte order: what SQLite's BINARY collation and MySQL's binary strings sort by. */
export const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))

/** Deterministic shuffle (mulberry32), so a failure replays. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** Bytes 0…255 repeated to `size`, with 0x00 and 0xFF at both ends. */
export function patternBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff
  if (size >= 4) bytes.set([0x00, 0xff], 0)
  if (size >= 4) bytes.set([0xff, 0x00], size - 2)
  return bytes
}
