import {
  DeadlineExceededError,
  type DeadlineSignal,
  InvalidArgumentError,
  isBackendFailure,
  MAX_TIMER_MS,
  SyncError,
  withDeadline,
} from '@sync-engine/core/internal'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FakePlatform, macrotask } from '../../support/fake-platform.ts'

interface Held<T> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

function held<T>(): Held<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

function outcomeOf<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
}

describe('withDeadline', () => {
  it('resolves with the value of a call that beats the deadline and clears its timer', async () => {
    const platform = new FakePlatform()
    const work = held<string>()
    let seen: DeadlineSignal | undefined
    const result = withDeadline(
      (signal) => {
        seen = signal
        return work.promise
      },
      100,
      platform,
      { tier: 'l2' },
    )
    expect(platform.pendingTimers).toBe(1)
    platform.advance(99)
    work.resolve('ok')
    await expect(result).resolves.toBe('ok')
    expect(platform.pendingTimers).toBe(0)
    platform.advance(1_000)
    expect(seen?.aborted).toBe(false)
  })

  it('accepts a promise already running', async () => {
    const platform = new FakePlatform()
    await expect(withDeadline(Promise.resolve(7), 10, platform, { tier: 'l3' })).resolves.toBe(7)
    expect(platform.pendingTimers).toBe(0)
  })

  it('passes a rejection through unchanged and clears its timer', async () => {
    const platform = new FakePlatform()
    const error = new Error('refused')
    await expect(withDeadline(Promise.reject(error), 100, platform, { tier: 'l3' })).rejects.toBe(error)
    expect(platform.pendingTimers).toBe(0)
  })

  it('turns a synchronous throw into a rejection and sets no timer', async () => {
    const platform = new FakePlatform()
    const error = new Error('thrown before any promise')
    const result = withDeadline(
      () => {
        throw error
      },
      100,
      platform,
      { tier: 'l3' },
    )
    await expect(result).rejects.toBe(error)
    expect(platform.pendingTimers).toBe(0)
  })

  it('rejects with a typed, retryable DeadlineExceededError when the deadline passes', async () => {
    const platform = new FakePlatform()
    const result = outcomeOf(
      withDeadline(held<string>().promise, 250, platform, { tier: 'l3', operation: 'flush' }),
    )
    platform.advance(249)
    await macrotask()
    expect(platform.pendingTimers).toBe(1)
    platform.advance(1)
    const { error } = await result
    expect(error).toBeInstanceOf(DeadlineExceededError)
    expect(error).toBeInstanceOf(SyncError)
    expect(error).toMatchObject({
      code: 'DEADLINE_EXCEEDED',
      status: 503,
      retryable: true,
      tier: 'l3',
      deadlineMs: 250,
      operation: 'flush',
    })
    expect(isBackendFailure(error)).toBe(true)
    expect(platform.pendingTimers).toBe(0)
  })

  it('aborts the signal with the deadline error, calls abort listeners once, then onTimeout', async () => {
    const platform = new FakePlatform()
    const events: string[] = []
    let signal: DeadlineSignal | undefined
    const timedOut: DeadlineExceededError[] = []
    const result = outcomeOf(
      withDeadline(
        (s) => {
          signal = s
          s.addEventListener('abort', () => events.push(`abort:${s.aborted}`))
          const removed = () => events.push('removed listener ran')
          s.addEventListener('abort', removed)
          s.removeEventListener('abort', removed)
          return held<string>().promise
        },
        50,
        platform,
        {
          tier: 'l2',
          onTimeout: (error) => {
            events.push('onTimeout')
            timedOut.push(error)
          },
        },
      ),
    )
    expect(signal?.aborted).toBe(false)
    expect(() => signal?.throwIfAborted()).not.toThrow()
    platform.advance(50)
    const { error } = await result
    expect(events).toEqual(['abort:true', 'onTimeout'])
    expect(timedOut).toEqual([error])
    expect(signal?.reason).toBe(error)
    expect(() => signal?.throwIfAborted()).toThrow(DeadlineExceededError)
    platform.advance(1_000)
    expect(events).toHaveLength(2)
  })

  it('still rejects with the deadline error when onTimeout or a listener throws', async () => {
    const platform = new FakePlatform()
    let secondListenerRan = false
    const result = outcomeOf(
      withDeadline(
        (signal) => {
          signal.addEventListener('abort', () => {
            throw new Error('cleanup bug')
          })
          signal.addEventListener('abort', () => {
            secondListenerRan = true
          })
          return held<string>().promise
        },
        10,
        platform,
        {
          tier: 'l2',
          onTimeout: () => {
            throw new Error('hook bug')
          },
        },
      ),
    )
    platform.advance(10)
    expect((await result).error).toBeInstanceOf(DeadlineExceededError)
    expect(secondListenerRan).toBe(true)
  })

  it('absorbs a late outcome after the deadline (no unhandled rejection, no change)', async () => {
    const platform = new FakePlatform()
    const work = held<string>()
    const result = outcomeOf(withDeadline(work.promise, 10, platform, { tier: 'l3' }))
    platform.advance(10)
    const first = await result
    // Vitest fails the run on an unhandled rejection, so this rejection must be handled inside.
    work.reject(new Error('late failure'))
    await macrotask()
    expect(first.error).toBeInstanceOf(DeadlineExceededError)
    expect(platform.pendingTimers).toBe(0)
  })

  it('refuses a deadline no timer can honour, without starting the call', () => {
    const platform = new FakePlatform()
    let started = 0
    const call = async () => {
      started++
      return 1
    }
    for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY, MAX_TIMER_MS + 1]) {
      expect(() => withDeadline(call, ms, platform, { tier: 'l2' })).toThrow(InvalidArgumentError)
    }
    expect(started).toBe(0)
    expect(platform.pendingTimers).toBe(0)
  })

  it('property: each call settles by whichever comes first, and no timer outlives any of them', async () => {
    // Settle times are odd and deadlines even, so the two never tie.
    const callArb = fc.record({
      deadline: fc.integer({ min: 0, max: 50 }).map((n) => n * 2),
      settleAt: fc.option(
        fc.integer({ min: 0, max: 60 }).map((n) => n * 2 + 1),
        { nil: undefined },
      ),
      fails: fc.boolean(),
    })
    await fc.assert(
      fc.asyncProperty(fc.array(callArb, { minLength: 1, maxLength: 12 }), async (calls) => {
        const platform = new FakePlatform(0)
        const works = calls.map(() => held<number>())
        const results = calls.map((call, index) =>
          outcomeOf(
            withDeadline((works[index] as Held<number>).promise, call.deadline, platform, { tier: 'l2' }),
          ),
        )
        const times = [...new Set(calls.flatMap((c) => [c.deadline, c.settleAt ?? 0]))].sort((a, b) => a - b)
        for (const time of times) {
          platform.advance(time - platform.now())
          calls.forEach((call, index) => {
            if (call.settleAt !== time) return
            const work = works[index] as Held<number>
            if (call.fails) work.reject(new Error(`failed ${index}`))
            else work.resolve(index)
          })
          await macrotask()
        }
        const outcomes = await Promise.all(results)
        outcomes.forEach((outcome, index) => {
          const call = calls[index] as (typeof calls)[number]
          const beatDeadline = call.settleAt !== undefined && call.settleAt < call.deadline
          if (!beatDeadline) {
            expect(outcome.error).toBeInstanceOf(DeadlineExceededError)
            expect((outcome.error as DeadlineExceededError).deadlineMs).toBe(call.deadline)
          } else if (call.fails) {
            expect((outcome.error as Error).message).toBe(`failed ${index}`)
          } else {
            expect(outcome.value).toBe(index)
          }
        })
        expect(platform.pendingTimers).toBe(0)
      }),
      { numRuns: 200 },
    )
  })
})
