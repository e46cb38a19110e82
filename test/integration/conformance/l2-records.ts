import {
  type ContentType,
  isCorrupt,
  type L2Value,
  type RedisReply,
  type RedisTransport,
  type StoredRecord,
  SyncItem,
  sha256Hex,
} from '@sync-engine/core/internal'
import { expect } from 'vitest'

/** Records and checks shared by the L2 conformance cases. */

export function binaryRecord(
  id: string,
  version: number,
  content: Uint8Array,
  meta: { state?: string; mime?: string } = {},
): StoredRecord {
  return record(id, version, content, 'binary', meta.mime ?? 'application/octet-stream', meta.state)
}

export function jsonRecord(id: string, version: number, value: unknown): StoredRecord {
  const item = SyncItem.fromJson(id, value)
  return record(id, version, item.content, 'json', item.mime, 'default')
}

function record(
  id: string,
  version: number,
  content: Uint8Array,
  contentType: ContentType,
  mime: string,
  state = 'default',
): StoredRecord {
  return {
    id,
    version,
    updatedAt: 1_700_000_000_000 + (version % 1000),
    hash: sha256Hex(content),
    state,
    contentType,
    mime,
    content,
    tombstone: false,
  }
}

export function tombstone(id: string, version: number): StoredRecord {
  return {
    id,
    version,
    updatedAt: 1_700_000_000_000 + (version % 1000),
    hash: '',
    state: 'default',
    contentType: 'binary',
    mime: '',
    content: null,
    tombstone: true,
  }
}

export function recordOf(value: L2Value | undefined): StoredRecord {
  if (value === undefined) throw new Error('expected a record, found nothing')
  if (isCorrupt(value)) throw new Error(`expected a record, found a corrupt value: ${value.reason}`)
  return value
}

export function expectRecord(value: L2Value | undefined, expected: StoredRecord): void {
  const actual = recordOf(value)
  expect({ ...actual, content: null }).toEqual({ ...expected, content: null })
  expect(actual.content === null ? null : Buffer.from(actual.content).toString('hex')).toBe(
    expected.content === null ? null : Buffer.from(expected.content).toString('hex'),
  )
}

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values)
}

export function text(reply: RedisReply): string {
  return reply instanceof Uint8Array ? new TextDecoder().decode(reply) : String(reply)
}

export function shuffle<T>(values: T[]): T[] {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[values[i], values[j]] = [values[j]!, values[i]!]
  }
  return values
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Removes this run's keys only: SCAN with the run's own pattern, then UNLINK what it found. */
export async function deleteMatching(transport: RedisTransport, pattern: string): Promise<void> {
  let cursor = '0'
  do {
    const reply = (await transport.send(['SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000])) as RedisReply[]
    cursor = text(reply[0] ?? null)
    const keys = (reply[1] as RedisReply[]).map((key) => key as Uint8Array)
    if (keys.length > 0) await transport.send(['UNLINK', ...keys])
  } while (cursor !== '0')
}
