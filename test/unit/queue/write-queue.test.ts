import type { FlushOutcome } from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'
import { put, QueueHarness, settle, tombstone } from '../../support/write-queue-harness.ts'

describe('WriteQueue flush triggers', () => {
  it('flushes once batchFlushCount distinct ids are queued', async () => {
    const h = new QueueHarness({ maxCount: 3, maxAgeMs: 10_000 })
    h.queue.enqueue(put('a', 1))
    h.queue.enqueue(put('b', 1))
    h.platform.advance(0)
    await settle()
    expect(h.batches).toHaveLength(0)
    h.queue.enqueue(put('c', 1))
    h.platform.advance(0)
    await settle()
    expect(h.batchKeys(0)).toEqual(['a@1', 'b@1', 'c@1'])
  })

  it('counts distinct ids: rewriting one id does not reach the count', async () => {
    const h = new QueueHarness({ maxCount: 2, maxAgeMs: 10_000 })
    h.queue.enqueue(put('a', 1))
    h.queue.enqueue(put('a', 2))
    h.queue.enqueue(put('a', 3))
    h.platform.advance(0)
    await settle()
    expect(h.batches).toHaveLength(0)
    expect(h.queue.depth).toBe(1)
  })

  it('flushes once the queued bytes reach batchFlushBytes', async () => {
    const h = new QueueHarness({ maxBytes: 100, maxAgeMs: 10_000 })
    h.queue.enqueue(put('a', 1, 40))
    h.queue.enqueue(put('b', 1, 40))
    h.platform.advance(0)
    await settle()
    expect(h.batches).toHaveLength(0)
    expect(h.queue.bytes).toBe(80)
    h.queue.enqueue(put('c', 1, 40))
    h.platform.advance(0)
    await settle()
    expect(h.batchKeys(0)).toEqual(['a@1', 'b@1', 'c@1'])
  })

  it('accounts bytes of a replaced write by the difference', async () => {
    const h = new QueueHarness({ maxBytes: 100, maxAgeMs: 10_000 })
    h.queue.enqueue(put('a', 1, 60))
    h.queue.enqueue(put('a', 2, 30))
    expect(h.queue.bytes).toBe(30)
    h.queue.enqueue(put('b', 1, 60))
    h.platform.advance(0)
    await settle()
    expect(h.batches).toHaveLength(0)
    expect(h.queue.bytes).toBe(90)
  })

  it('flushes batchFlushMs after the OLDEST queued write; a later write does not postpone it', async () => {
    const h = new QueueHarness({ maxAgeMs: 100 })
    h.queue.enqueue(put('a', 1))
    h.platform.advance(60)
    h.queue.enqueue(put('b', 1))
    h.platform.advance(39)
    await settle()
    expect(h.batches).toHaveLength(0)
    h.platform.advance(1)
    await settle()
    expect(h.batchKeys(0)).toEqual(['a@1', 'b@1'])
  })

  it('a write that arrives while a flush runs is flushed by its own age, not postponed past the flush end', async () => {
    const h = new QueueHarness({ maxAgeMs: 100 })
    h.mode = 'hold'
    h.queue.enqueue(put('a', 1))
    h.platform.advance(100) // first flush starts at t=100 and hangs
    await settle()
    expect(h.batches).toHaveLength(1)
    h.platform.advance(50) // t=150: b arrives, due at t=250
    h.queue.enqueue(put('b', 1))
    h.platform.advance(150) // t=300: b is overdue, but a flush is still running
    await settle()
    expect(h.batches).toHaveLength(1)
    h.mode = 'ok'
    h.held[0]!.resolve({ written: 1, failed: new Map() })
    await settle()
    // b has waited 150 ms > batchFlushMs: it goes as soon as the running flush ends.
    h.platform.advance(0)
    await settle()
    expect(h.batches).toHaveLength(2)
    expect(h.batchKeys(1)).toEqual(['b@1'])
  })

  it('setThresholds applies a lower count live', async () => {
    const h = new QueueHarness({ maxCount: 100, maxAgeMs: 10_000 })
    h.queue.enqueue(put('a', 1))
    h.queue.enqueue(put('b', 1))
    h.queue.setThresholds({ maxCount: 2, maxBytes: 1_000_000, maxAgeMs: 10_000 })
    h.platform.advance(0)
    await settle()
    expect(h.batchKeys(0)).toEqual(['a@1', 'b@1'])
  })
  it('setThresholds applies a shorter age live, counted from the oldest write', async () => {
    const h = new QueueHarness({ maxAgeMs: 60_000 })
    h.queue.enqueue(put('a', 1))
    h.platform.advance(40)
    h.queue.setThresholds({ maxCount: 1000, maxBytes: 1_000_000, maxAgeMs: 50 })
    h.platform.advance(9)
    await settle()
    expect(h.batches).toHaveLength(0)
    h.platform.advance(1)
    await settle()
    expect(h.batchKeys(0)).toEqual(['a@1'])
  })
})

describe('WriteQueue dedupe', () => {
  it('keeps the highest version of an id', async () => {
    const h = new QueueHarness()
    h.queue.enqueue(put('a', 1))
    h.queue.enqueue(put('a', 3))
    h.queue.enqueue(put('b', 5))
    await h.queue.flush()
    expect(h.batchKeys(0)).toEqual(['a@3', 'b@5'])
  })

  it('an older version enqueued after a newer one does not replace it', async () => {
    const h = new QueueHarness()
    h.queue.enqueue(put('a', 5))
    h.queue.enqueue(put('a', 2))
    expect(h.queue.lookup('a')?.version).toBe(5)
    await h.queue.flush()
    expect(h.batchKeys(0)).toEqual(['a@5'])
  })

  it('a tombstone with a higher version cancels the queued put', async () => {
    const h = new QueueHarness()
    h.queue.enqueue(put('a', 1))
    h.queue.enqueue(tombstone('a', 2))
    expect(h.queue.lookup('a')?.item).toBeNull()
    await h.queue.flush()
    expect(h.batchKeys(0)).toEqual(['a@2(deleted)'])
  })

  it('a tombstone with a lower version does not cancel a newer put', async () => {
    const h = new QueueHarness()
    h.queue.enqueue(put('a', 3))
    h.queue.enqueue(tombstone('a', 2))
    await h.queue.flush()
    expect(h.batchKeys(0)).toEqual(['a@3'])
  })
})

describe('WriteQueue flushing', () => {
  it('runs one flush at a time', async () => {
    const h = new QueueHarness({ maxCount: 1 })
    h.mode = 'hold'
    h.queue.enqueue(put('a', 1))
    h.platform.advance(0)
    await settle()
    h.queue.enqueue(put('b', 1))
    h.platform.advance(1000)
    await settle()
    expect(h.batches).toHaveLength(1)
    h.held[0]!.resolve({ written: 1, failed: new Map() })
    await settle()
    h.platform.advance(0)
    await settle()
    expect(h.batches).toHaveLength(2)
    expect(h.batchKeys(1)).toEqual(['b@1'])
  })

  it('flush() flushes everything queued without waiting for a timer', async () => {
    const h = new QueueHarness({ maxAgeMs: 60_000 })
    h.queue.enqueue(put('a', 1))
    h.queue.enqueue(tombstone('b', 2))
    const outcome = await h.queue.flush()
    expect(outcome.written).toBe(2)
    expect(h.batchKeys(0)).toEqual(['a@1', 'b@2(deleted)'])
    expect(h.queue.depth).toBe(0)
    expect(h.queue.bytes).toBe(0)
  })

  it('flush() on an empty queue writes nothing', async () => {
    const h = new QueueHarness()
    const outcome = await h.queue.flush()
    expect(outcome.written).toBe(0)
    expect(h.batches).toHaveLength(0)
  })

  it('flush() waits for a running flush and then flushes what was queued meanwhile', async () => {
    const h = new QueueHarness()
    h.mode = 'hold'
    h.queue.enqueue(put('a', 1))
    h.platform.advance(100)
    await settle()
    h.queue.enqueue(put('b', 1))
    h.mode = 'ok'
    const flushed = h.queue.flush()
    h.held[0]!.resolve({ written: 1, failed: new Map() })
    await flushed
    expect(h.batchKeys(1)).toEqual(['b@1'])
    expect(h.queue.depth).toBe(0)
  })

  it('two concurrent flush() calls both resolve only after everything queued before them is written', async () => {
    const h = new QueueHarness()
    h.mode = 'hold'
    h.queue.enqueue(put('a', 1))
    h.platform.advance(100) // batch #0 [a] in flight
    await settle()
    h.queue.enqueue(put('b', 1))
    let secondDone = false
    const first = h.queue.flush()
    const second = h.queue.flush().then((outcome) => {
      secondDone = true
      return outcome
    })
    h.held[0]!.resolve({ written: 1, failed: new Map() })
    await settle()
    // batch #1 [b] is now in flight; the second caller queued b too, so it must still wait.
    expect(h.batches).toHaveLength(2)
    expect(secondDone).toBe(false)
    h.held[1]!.resolve({ written: 1, failed: new Map() })
    await Promise.all([first, second])
    expect(secondDone).toBe(true)
    expect(h.queue.depth).toBe(0)
  })

  it('the promise of enqueue settles with the outcome of the batch that carried the write', async () => {
    const h = new QueueHarness()
    h.mode = 'hold'
    let outcome: FlushOutcome | undefined
    void h.queue.enqueue(put('a', 1)).then((o) => {
      outcome = o
    })
    h.platform.advance(100)
    await settle()
    expect(outcome).toBeUndefined()
    h.held[0]!.resolve({ written: 1, failed: new Map() })
    await settle()
    expect(outcome?.written).toBe(1)
    expect(outcome?.failed.size).toBe(0)
  })
})

describe('WriteQueue failures', () => {
  it('a throwing flushBatch re-queues every write: nothing is lost', async () => {
    const h = new QueueHarness()
    h.mode = 'fail'
    const done = h.queue.enqueue(put('a', 1, 30))
    h.queue.enqueue(tombstone('b', 2, 20))
    const outcome = await h.queue.flush()
    expect([...outcome.failed.keys()].sort()).toEqual(['a', 'b'])
    expect((await done).failed.get('a')?.message).toBe('tier down')
    expect(h.errors).toEqual([{ error: expect.objectContaining({ message: 'tier down' }), ids: 2 }])
    expect(h.queue.depth).toBe(2)
    expect(h.queue.bytes).toBe(50)
    expect(h.queue.lookup('a')?.version).toBe(1)
    h.mode = 'ok'
    await h.queue.flush()
    expect(h.batchKeys(1)).toEqual(['a@1', 'b@2(deleted)'])
    expect(h.queue.depth).toBe(0)
  })

  it('a partial failure re-queues only the failed ids', async () => {
    const h = new QueueHarness()
    h.mode = 'hold'
    h.queue.enqueue(put('a', 1))
    h.queue.enqueue(put('b', 1))
    const flushed = h.queue.flush()
    await settle()
    h.held[0]!.resolve({ written: 1, failed: new Map([['b', new Error('row too big')]]) })
    const outcome = await flushed
    expect([...outcome.failed.keys()]).toEqual(['b'])
    expect(h.queue.lookup('a')).toBeUndefined()
    expect(h.queue.lookup('b')?.version).toBe(1)
    expect(h.queue.depth).toBe(1)
  })

  it('a failed write is not re-queued over a newer version of its id that arrived meanwhile', async () => {
    const h = new QueueHarness()
    h.mode = 'hold'
    h.queue.enqueue(put('a', 1))
    h.queue.enqueue(put('b', 1))
    const flushed = h.queue.flush()
    await settle()
    h.queue.enqueue(tombstone('a', 2))
    h.held[0]!.reject(new Error('tier down'))
    await flushed
    expect(h.queue.lookup('a')?.version).toBe(2)
    expect(h.queue.lookup('a')?.item).toBeNull()
    h.mode = 'ok'
    await h.queue.flush()
    expect(h.batchKeys(1)).toEqual(['a@2(deleted)', 'b@1'])
  })

  it('a failed write replaces an OLDER version of its id that arrived meanwhile', async () => {
    const h = new QueueHarness()
    h.mode = 'hold'
    h.queue.enqueue(put('a', 5, 10))
    const flushed = h.queue.flush()
    await settle()
    h.queue.enqueue(put('a', 3, 25))
    h.held[0]!.reject(new Error('tier down'))
    await flushed
    expect(h.queue.lookup('a')?.version).toBe(5)
    expect(h.queue.bytes).toBe(10)
  })

  it('retries with exponential backoff and resets after a success', async () => {
    const h = new QueueHarness({ maxAgeMs: 100 })
    h.mode = 'fail'
    h.queue.enqueue(put('a', 1))
    h.platform.advance(100)
    await settle()
    expect(h.batches).toHaveLength(1)
    expect(h.queue.consecutiveFailures).toBe(1)
    // 1st retry after 100 × 2¹ = 200 ms.
    h.platform.advance(199)
    await settle()
    expect(h.batches).toHaveLength(1)
    h.platform.advance(1)
    await settle()
    expect(h.batches).toHaveLength(2)
    expect(h.queue.consecutiveFailures).toBe(2)
    // 2nd retry after 400 ms.
    h.platform.advance(399)
    await settle()
    expect(h.batches).toHaveLength(2)
    h.mode = 'ok'
    h.platform.advance(1)
    await settle()
    expect(h.batches).toHaveLength(3)
    expect(h.batchKeys(2)).toEqual(['a@1'])
    expect(h.queue.consecutiveFailures).toBe(0)
    expect(h.queue.depth).toBe(0)
  })

  it('caps the retry delay at 5 s', async () => {
    const h = new QueueHarness({ maxAgeMs: 1000 })
    h.mode = 'fail'
    h.queue.enqueue(put('a', 1))
    h.platform.advance(1000) // failure 1
    await settle()
    h.platform.advance(2000) // failure 2
    await settle()
    h.platform.advance(4000) // failure 3; next would be 8000 uncapped
    await settle()
    expect(h.batches).toHaveLength(3)
    h.platform.advance(4999)
    await settle()
    expect(h.batches).toHaveLength(3)
    h.platform.advance(1)
    await settle()
    expect(h.batches).toHaveLength(4)
  })
})

describe('WriteQueue lookup', () => {
  it('sees queued writes, then in-flight writes, and nothing once written', async () => {
    const h = new QueueHarness()
    h.mode = 'hold'
    h.queue.enqueue(put('a', 1))
    expect(h.queue.lookup('a')?.version).toBe(1)
    expect(h.queue.lookup('zzz')).toBeUndefined()
    const flushed = h.queue.flush()
    await settle()
    expect(h.queue.lookup('a')?.version).toBe(1)
    expect(h.queue.depth).toBe(1)
    h.queue.enqueue(put('b', 1))
    expect(h.queue.depth).toBe(2)
    h.held[0]!.resolve({ written: 1, failed: new Map() })
    await flushed
    expect(h.queue.lookup('a')).toBeUndefined()
    expect(h.queue.lookup('b')?.version).toBe(1)
  })

  it('prefers the newer of a queued and an in-flight write of the same id', async () => {
    const h = new QueueHarness()
    h.mode = 'hold'
    h.queue.enqueue(put('a', 5))
    void h.queue.flush()
    await settle()
    // A caller-versioned write older than the one in flight lands in the new generation.
    h.queue.enqueue(put('a', 3))
    expect(h.queue.lookup('a')?.version).toBe(5)
    h.queue.enqueue(put('a', 7))
    expect(h.queue.lookup('a')?.version).toBe(7)
  })
})

describe('WriteQueue close', () => {
  it('stops timers: nothing flushes by itself afterwards, flush() still works', async () => {
    const h = new QueueHarness({ maxCount: 2, maxAgeMs: 100 })
    h.queue.enqueue(put('a', 1))
    expect(h.platform.pendingTimers).toBe(1)
    h.queue.close()
    expect(h.platform.pendingTimers).toBe(0)
    h.queue.enqueue(put('b', 1))
    h.queue.enqueue(put('c', 1))
    h.platform.advance(60_000)
    await settle()
    expect(h.batches).toHaveLength(0)
    expect(h.platform.pendingTimers).toBe(0)
    await h.queue.flush()
    expect(h.batchKeys(0)).toEqual(['a@1', 'b@1', 'c@1'])
    expect(h.platform.pendingTimers).toBe(0)
  })

  it('a failed flush after close() does not schedule a retry timer', async () => {
    const h = new QueueHarness()
    h.queue.enqueue(put('a', 1))
    h.queue.close()
    h.mode = 'fail'
    await h.queue.flush()
    expect(h.platform.pendingTimers).toBe(0)
    expect(h.queue.depth).toBe(1)
  })
})
