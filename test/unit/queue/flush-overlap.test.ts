import {
  connectedWriter,
  type L2WriteEntry,
  type L2WriteResult,
  type L3WriteOptions,
  type L3WriteResult,
  MemoryL2Store,
  MemoryL3Store,
  type QueuedWrite,
  type StoredRecord,
  SubmitOptions,
  SyncEngine,
  SyncItem,
  WriteQueue,
} from '@sync-engine/core/internal'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { FakePlatform } from '../../support/fake-platform.ts'
import { put } from '../../support/write-queue-harness.ts'

/** An L2 whose writes and deletes can be held back, recording the order they reached it. */
class GatedL2 extends MemoryL2Store {
  readonly calls: string[] = []
  #gate: Promise<void> | undefined
  #open: (() => void) | undefined

  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve
    })
  }

  release(): void {
    this.#open?.()
    this.#gate = undefined
  }

  override async write(entries: readonly L2WriteEntry[]): Promise<L2WriteResult> {
    const gate = this.#gate
    if (gate) await gate
    this.calls.push(`write ${entries.map((entry) => entry.record.id).join(',')}`)
    return super.write(entries)
  }

  override async delete(ids: readonly string[]): Promise<number> {
    const gate = this.#gate
    if (gate) await gate
    this.calls.push(`delete ${ids.join(',')}`)
    return super.delete(ids)
  }
}

class RecordingL3 extends MemoryL3Store {
  readonly batches: string[][] = []
  /** While set, writes wait for it (after being recorded). */
  gate: Promise<void> | undefined

  override async write(records: readonly StoredRecord[], options?: L3WriteOptions): Promise<L3WriteResult> {
    this.batches.push(records.map((record) => record.id))
    if (this.gate) await this.gate
    return super.write(records, options)
  }
}

const engines: SyncEngine[] = []
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.shutdown()
})

async function engineOver(l2: GatedL2, l3: RecordingL3): Promise<SyncEngine> {
  // Batches of two writes, sealed and flushed as soon as they are full; no timer in the way.
  const engine = new SyncEngine({ l2, l3, config: { batchFlushCount: 2, batchFlushMs: 60_000 } })
  engines.push(engine)
  await engine.start()
  return engine
}

const item = (id: string, n: number) => SyncItem.fromJson(id, { n })

describe('queue flushes in flight at once', () => {
  it("start the next batch's L3 write while the previous batch's L2 write runs", async () => {
    const l2 = new GatedL2()
    const l3 = new RecordingL3()
    const engine = await engineOver(l2, l3)
    l2.hold()
    await engine.submit(item('a', 1), { ack: 'queued' })
    await engine.submit(item('b', 1), { ack: 'queued' })
    await engine.submit(item('c', 1), { ack: 'queued' })
    await engine.submit(item('d', 1), { ack: 'queued' })
    // Batch one is held in L2; batch two reached L3 all the same.
    await vi.waitFor(() =>
      expect(l3.batches).toEqual([
        ['a', 'b'],
        ['c', 'd'],
      ]),
    )
    expect(l2.calls).toEqual([])
    // Both still pending: served from the queue meanwhile.
    expect((await engine.status('a')).kind).toBe('pending')
    expect((await engine.get('c'))?.json()).toEqual({ n: 1 })
    l2.release()
    await engine.flush()
    expect(l2.calls).toEqual(['write a,b', 'write c,d'])
    expect([...(await l2.read(['a', 'b', 'c', 'd'])).keys()].sort()).toEqual(['a', 'b', 'c', 'd'])
  })

  it('keep L2 in batch order: a durable write’s L2 delete never lands after a later cache-only write of the id', async () => {
    const l2 = new GatedL2()
    const l3 = new RecordingL3()
    const engine = await engineOver(l2, l3)
    l2.hold()
    // Batch one: x to SQL only (its L2 copy is deleted); batch two: x to Redis only.
    await engine.submit(item('x', 1), { ...SubmitOptions.durable(), ack: 'queued' })
    await engine.submit(item('filler-1', 1), { ack: 'queued' })
    await engine.submit(item('x', 2), { ...SubmitOptions.cache(60_000), ack: 'queued' })
    await engine.submit(item('filler-2', 1), { ack: 'queued' })
    await vi.waitFor(() => expect(l3.batches).toEqual([['x', 'filler-1'], ['filler-2']]))
    l2.release()
    await engine.flush()
    expect(l2.calls).toEqual(['write filler-1', 'delete x', 'write x,filler-2'])
    // The cache-only write is the newest, and it is in L2 (its only tier).
    const found = (await l2.read(['x'])).get('x') as StoredRecord | undefined
    expect(found?.version).toBe((await engine.get('x'))?.version)
    expect(JSON.parse(new TextDecoder().decode(found!.content!))).toEqual({ n: 2 })
  })

  it('finish in the order they started: a failed older write is not requeued over a newer one a later batch stored', async () => {
    let calls = 0
    let openFirst!: () => void
    const firstHeld = new Promise<void>((resolve) => {
      openFirst = resolve
    })
    const queue = new WriteQueue({
      maxCount: 1,
      maxBytes: 1_000_000,
      maxAgeMs: 60_000,
      platform: new FakePlatform(),
      // x@1's batch releases the next at once, then fails late; x@2's batch succeeds at once.
      flushBatch: async (batch, release) => {
        calls++
        release()
        if (batch[0]!.version === 2) return { written: 1, failed: new Map() }
        await firstHeld
        return { written: 0, failed: new Map([['x', new Error('L2 down for a moment')]]) }
      },
    })
    const first = queue.enqueue(put('x', 1))
    const second = queue.enqueue(put('x', 2))
    await vi.waitFor(() => expect(calls).toBe(2))
    openFirst()
    await Promise.all([first, second])
    // x@2 is stored: x@1 must not come back as the pending write of x.
    expect(queue.lookup('x')).toBeUndefined()
    expect(queue.depth).toBe(0)
  })

  it('tier writes in flight at once reach L2 in the order they were called, whichever L3 part ends first', async () => {
    const l2 = new GatedL2()
    const l3 = new RecordingL3()
    const writer = await connectedWriter({ l2, l3 })
    let openL3!: () => void
    l3.gate = new Promise((resolve) => {
      openL3 = resolve
    })
    const routed = (write: QueuedWrite, l2On: boolean, l3On: boolean): QueuedWrite => ({
      ...write,
      route: { l2: l2On, l3: l3On, ttlMs: undefined },
    })
    // As two log-drain pages: x to SQL only (its L2 copy is deleted), then x to Redis only.
    const first = writer.write([routed(put('x', 1), false, true)], { drain: true })
    const second = writer.write([routed(put('x', 2), true, false)], { drain: true })
    await vi.waitFor(() => expect(l3.batches).toEqual([['x']]))
    openL3()
    await Promise.all([first, second])
    expect(l2.calls).toEqual(['delete x', 'write x'])
    expect((await l2.read(['x'])).get('x')).toMatchObject({ version: 2 })
  })
})
