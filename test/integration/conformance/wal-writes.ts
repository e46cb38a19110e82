import { type PendingWrite, type Route, SyncItem, type WriteAheadLog } from '@sync-engine/core'
import { expect } from 'vitest'

/** Writes and checks shared by the write-ahead log conformance cases. */

/** An HLC-shaped version: wall ms × 1000 + counter. */
export const T = 1_700_000_000_000
export const hlc = (n: number) => T * 1000 + n
export const BOTH: Route = { l2: true, l3: true, ttlMs: undefined }

export function put(item: SyncItem, version: number, extra: Partial<PendingWrite> = {}): PendingWrite {
  const updatedAt = extra.updatedAt ?? Math.floor(version / 1000)
  return {
    id: item.id,
    version,
    updatedAt,
    item: item.withVersion(version, updatedAt),
    route: BOTH,
    expiresAt: 0,
    callerVersioned: false,
    ...extra,
  }
}

export function json(id: string, version: number, value: unknown = { id, version }): PendingWrite {
  return put(SyncItem.fromJson(id, value), version)
}

export function binary(id: string, version: number, content: Uint8Array): PendingWrite {
  return put(SyncItem.fromBinary(id, content), version)
}

export function tombstone(id: string, version: number): PendingWrite {
  return {
    id,
    version,
    updatedAt: Math.floor(version / 1000),
    item: null,
    route: BOTH,
    expiresAt: 0,
    callerVersioned: false,
  }
}

/** Every field equal, content byte-identical, and content a plain Uint8Array (not a Node Buffer). */
export function expectSameWrite(actual: PendingWrite | undefined, expected: PendingWrite): void {
  expect(actual).toBeDefined()
  const { item, ...rest } = actual!
  const { item: expectedItem, ...expectedRest } = expected
  expect(rest).toEqual(expectedRest)
  if (expectedItem === null) {
    expect(item).toBeNull()
    return
  }
  expect(item).toBeInstanceOf(SyncItem)
  expect(Object.getPrototypeOf(item!.content)).toBe(Uint8Array.prototype)
  expect(Buffer.from(item!.content).toString('hex')).toBe(Buffer.from(expectedItem.content).toString('hex'))
  const fields = (of: SyncItem) => ({
    id: of.id,
    contentType: of.contentType,
    mime: of.mime,
    hash: of.hash,
    state: of.state,
    version: of.version,
    updatedAt: of.updatedAt,
  })
  expect(fields(item!)).toEqual(fields(expectedItem))
}

/** Each entry's write equals the expected one, in order. */
export function expectSameWrites(actual: readonly PendingWrite[], expected: readonly PendingWrite[]): void {
  expect(actual.map((write) => `${write.id}@${write.version}`)).toEqual(
    expected.map((write) => `${write.id}@${write.version}`),
  )
  actual.forEach((write, i) => {
    expectSameWrite(write, expected[i]!)
  })
}

export async function readAll(log: WriteAheadLog) {
  return log.read(0, Number.MAX_SAFE_INTEGER)
}

/** The writes the log holds, in seq order. */
export async function writesIn(log: WriteAheadLog): Promise<PendingWrite[]> {
  return (await readAll(log)).map((entry) => entry.write)
}
