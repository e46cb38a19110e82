import { BackendError, MemoryWriteAheadLog, memoryWalEntryBytes } from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'
import { walConformance } from './wal-conformance.ts'
import { json } from './wal-writes.ts'

// No `reopen`: the memory log keeps nothing once closed, so the cases that reopen are skipped.
walConformance('MemoryWriteAheadLog', {
  create: async (maxBytes) => {
    const log = new MemoryWriteAheadLog({ maxBytes })
    await log.open()
    return log
  },
  entryBytes: memoryWalEntryBytes,
})

describe('MemoryWriteAheadLog: its own rules', () => {
  it('refuses every operation before open with BackendError, and a bound that is not positive', async () => {
    const log = new MemoryWriteAheadLog({ maxBytes: 1_000 })
    await expect(log.append([json('a', 1)])).rejects.toBeInstanceOf(BackendError)
    await expect(log.read(0, 1)).rejects.toBeInstanceOf(BackendError)
    await expect(log.bind('x')).rejects.toBeInstanceOf(BackendError)
    await log.open()
    await log.open()
    await log.append([json('a', 1)])
    expect(log.stats()).toEqual({ entries: 1, bytes: memoryWalEntryBytes(json('a', 1)), maxBytes: 1_000 })
    expect(() => new MemoryWriteAheadLog({ maxBytes: 0 })).toThrow(/maxBytes/)
  })

  it('counts an entry as its content, its id in UTF-8 and 64 bytes, as the SQLite log does', () => {
    const write = json('é', 1, { v: 1 })
    expect(memoryWalEntryBytes(write)).toBe(write.item!.content.byteLength + 2 + 64)
  })
})
