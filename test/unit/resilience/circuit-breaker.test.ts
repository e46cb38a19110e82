import {
  BackendError,
  type BreakerState,
  CircuitBreaker,
  type CircuitBreakerOptions,
  CircuitOpenError,
  ConfigError,
  DEFAULT_BREAKER_OPTIONS,
  DeadlineExceededError,
  InvalidArgumentError,
  RedisReplyError,
} from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'
import { FakePlatform, macrotask } from '../../support/fake-platform.ts'
import { BackendDouble } from './backend-double.ts'

const BASE: CircuitBreakerOptions = {
  failureThreshold: 3,
  windowMs: 1_000,
  openMs: 500,
  maxOpenMs: 500,
  successesToClose: 1,
  deadlineMs: 100,
}

function setup(options: CircuitBreakerOptions = {}) {
  const platform = new FakePlatform()
  const breaker = new CircuitBreaker('l3', platform, { ...BASE, ...options })
  const backend = new BackendDouble()
  const changes: string[] = []
  breaker.onStateChange((state, previous) => changes.push(`${previous}->${state}`))
  return { platform, breaker, backend, changes }
}

type Setup = ReturnType<typeof setup>

async function failTimes(breaker: CircuitBreaker, backend: BackendDouble, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    await expect(breaker.run(backend.down)).rejects.toBeInstanceOf(BackendError)
  }
}

/** Opens the circuit with `failureThreshold` failures at the current time. */
async function trip({ breaker, backend }: Setup): Promise<void> {
  await failTimes(breaker, backend, breaker.options.failureThreshold)
  expect(breaker.state).toBe('open')
}

async function rejection(promise: Promise<unknown>): Promise<CircuitOpenError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  expect(error).toBeInstanceOf(CircuitOpenError)
  return error as CircuitOpenError
}

describe('CircuitBreaker: closed → open', () => {
  it('stays closed at N-1 failures within the window and opens at the Nth', async () => {
    const s = setup({ failureThreshold: 5 })
    for (let i = 0; i < 4; i++) {
      await failTimes(s.breaker, s.backend, 1)
      s.platform.advance(100)
    }
    expect(s.breaker.state).toBe('closed')
    expect(s.breaker.stats().recentFailures).toBe(4)
    await expect(s.breaker.run(s.backend.ok)).resolves.toBe('value')

    await failTimes(s.breaker, s.backend, 1)
    expect(s.breaker.state).toBe('open')
    expect(s.changes).toEqual(['closed->open'])
    expect(s.breaker.stats().opens).toBe(1)
  })

  it('counts failures, not a rate: one failure among few calls does not open it', async () => {
    // The seed turned threshold 5 into a 5% rate over 5 calls, so one failure in five tripped it.
    const s = setup({ failureThreshold: 5 })
    await failTimes(s.breaker, s.backend, 1)
    for (let i = 0; i < 4; i++) await s.breaker.run(s.backend.ok)
    expect(s.breaker.state).toBe('closed')
  })

  it('successes in between do not erase failures still in the window', async () => {
    const s = setup({ failureThreshold: 3 })
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 10; j++) await s.breaker.run(s.backend.ok)
      expect(s.breaker.state).toBe('closed')
      await failTimes(s.breaker, s.backend, 1)
    }
    expect(s.breaker.state).toBe('open')
  })

  it('does not count failures that have aged out of the window', async () => {
    const s = setup({ failureThreshold: 3, windowMs: 1_000 })
    await failTimes(s.breaker, s.backend, 1) // t = 0
    s.platform.advance(400)
    await failTimes(s.breaker, s.backend, 1) // t = 400
    s.platform.advance(600)
    // t = 1000: the first failure is exactly windowMs old and no longer counts.
    await failTimes(s.breaker, s.backend, 1)
    expect(s.breaker.state).toBe('closed')
    expect(s.breaker.stats().recentFailures).toBe(2)
    await failTimes(s.breaker, s.backend, 1)
    expect(s.breaker.state).toBe('open')
  })

  it('opens when the N failures span just under the window', async () => {
    const s = setup({ failureThreshold: 3, windowMs: 1_000 })
    await failTimes(s.breaker, s.backend, 1)
    s.platform.advance(500)
    await failTimes(s.breaker, s.backend, 1)
    s.platform.advance(499)
    await failTimes(s.breaker, s.backend, 1)
    expect(s.breaker.state).toBe('open')
  })

  it('passes values and backend errors through unchanged', async () => {
    const s = setup()
    const error = new BackendError('l3', 'boom')
    await expect(s.breaker.run(async () => 42)).resolves.toBe(42)
    await expect(s.breaker.run(s.backend.failWith(error))).rejects.toBe(error)
  })
})

describe('CircuitBreaker: open', () => {
  it('fails fast with a typed CircuitOpenError without calling the backend', async () => {
    const s = setup({ openMs: 500 })
    await trip(s)
    const callsBefore = s.backend.calls
    s.platform.advance(200)

    const error = await rejection(s.breaker.run(s.backend.ok))
    expect(s.backend.calls).toBe(callsBefore)
    expect(error.code).toBe('CIRCUIT_OPEN')
    expect(error.status).toBe(503)
    expect(error.retryable).toBe(true)
    expect(error.tier).toBe('l3')
    expect(error.breakerState).toBe('open')
    expect(error.retryAfterMs).toBe(300)

    await rejection(s.breaker.run(s.backend.ok))
    expect(s.breaker.stats()).toMatchObject({ rejections: 2, calls: callsBefore, retryAfterMs: 300 })
  })

  it('stays open until openMs have passed, then lets a probe through', async () => {
    const s = setup({ openMs: 500 })
    await trip(s)
    s.platform.advance(499)
    expect(s.breaker.state).toBe('open')
    await rejection(s.breaker.run(s.backend.ok))
    s.platform.advance(1)
    expect(s.breaker.state).toBe('half-open')
    const callsBefore = s.backend.calls
    await expect(s.breaker.run(s.backend.ok)).resolves.toBe('value')
    expect(s.backend.calls).toBe(callsBefore + 1)
  })

  it('moves to half-open lazily, telling listeners when it is next consulted', async () => {
    const s = setup({ openMs: 500 })
    await trip(s)
    s.platform.advance(10_000)
    expect(s.changes).toEqual(['closed->open'])
    expect(s.breaker.stats().state).toBe('half-open')
    expect(s.changes).toEqual(['closed->open', 'open->half-open'])
  })
})

describe('CircuitBreaker: half-open', () => {
  async function halfOpen(options: CircuitBreakerOptions = {}): Promise<Setup> {
    const s = setup(options)
    await trip(s)
    s.platform.advance(s.breaker.options.openMs)
    expect(s.breaker.state).toBe('half-open')
    s.backend.calls = 0
    return s
  }

  it('lets exactly one concurrent probe through; the others fail fast', async () => {
    const s = await halfOpen({ deadlineMs: 100 })
    const probe = s.breaker.run(s.backend.deferred)
    s.platform.advance(30)
    const refused = await Promise.all([1, 2, 3].map(() => rejection(s.breaker.run(s.backend.ok))))
    expect(s.backend.calls).toBe(1)
    for (const error of refused) {
      expect(error.breakerState).toBe('half-open')
      // The probe frees its slot at the latest when its deadline passes.
      expect(error.retryAfterMs).toBe(70)
    }

    s.backend.call(0).resolve('probed')
    await expect(probe).resolves.toBe('probed')
    expect(s.breaker.state).toBe('closed')
    await Promise.all([1, 2, 3].map(() => s.breaker.run(s.backend.ok)))
    expect(s.backend.calls).toBe(4)
  })

  it('closes after one successful probe by default', async () => {
    const s = await halfOpen()
    await s.breaker.run(s.backend.ok)
    expect(s.breaker.state).toBe('closed')
    expect(s.changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed'])
  })

  it('needs successesToClose successful probes, still one at a time', async () => {
    const s = await halfOpen({ successesToClose: 2 })
    const first = s.breaker.run(s.backend.deferred)
    await rejection(s.breaker.run(s.backend.ok))
    s.backend.call(0).resolve('one')
    await first
    expect(s.breaker.state).toBe('half-open')

    const second = s.breaker.run(s.backend.deferred)
    await rejection(s.breaker.run(s.backend.ok))
    expect(s.backend.calls).toBe(2)
    s.backend.call(1).resolve('two')
    await second
    expect(s.breaker.state).toBe('closed')
  })

  it('re-opens on a failed probe, doubling the open period up to maxOpenMs', async () => {
    const s = await halfOpen({ openMs: 1_000, maxOpenMs: 3_500 })
    const openPeriods: number[] = []
    for (let round = 0; round < 4; round++) {
      await expect(s.breaker.run(s.backend.down)).rejects.toBeInstanceOf(BackendError)
      expect(s.breaker.state).toBe('open')
      const period = s.breaker.stats().retryAfterMs
      openPeriods.push(period)
      s.platform.advance(period - 1)
      expect(s.breaker.state).toBe('open')
      s.platform.advance(1)
      expect(s.breaker.state).toBe('half-open')
    }
    expect(openPeriods).toEqual([2_000, 3_500, 3_500, 3_500])

    // A close resets the backoff: the next trip opens for openMs again.
    await s.breaker.run(s.backend.ok)
    expect(s.breaker.state).toBe('closed')
    await trip(s)
    expect(s.breaker.stats().retryAfterMs).toBe(1_000)
  })

  it('has no backoff when maxOpenMs equals openMs', async () => {
    const s = await halfOpen({ openMs: 700, maxOpenMs: 700 })
    await expect(s.breaker.run(s.backend.down)).rejects.toBeInstanceOf(BackendError)
    expect(s.breaker.stats().retryAfterMs).toBe(700)
  })

  it('treats a probe that exceeds its deadline as failed and frees the slot', async () => {
    const s = await halfOpen({ deadlineMs: 100, openMs: 500, maxOpenMs: 5_000 })
    const probe = s.breaker.run(s.backend.deferred)
    const outcome = probe.catch((error: unknown) => error)
    s.platform.advance(100)
    const error = await outcome
    expect(error).toBeInstanceOf(DeadlineExceededError)
    expect(s.backend.call(0).signal.aborted).toBe(true)
    expect(s.breaker.state).toBe('open')
    expect(s.breaker.stats()).toMatchObject({ timeouts: 1, retryAfterMs: 1_000 })

    // The hung call answering late changes nothing.
    s.backend.call(0).resolve('late')
    await macrotask()
    expect(s.breaker.state).toBe('open')
    expect(s.platform.pendingTimers).toBe(0)
  })

  it('a probe ending in a caller error frees the slot and decides nothing', async () => {
    const s = await halfOpen()
    const bad = new InvalidArgumentError('bad version')
    await expect(s.breaker.run(s.backend.failWith(bad))).rejects.toBe(bad)
    expect(s.breaker.state).toBe('half-open')
    await expect(s.breaker.run(s.backend.ok)).resolves.toBe('value')
    expect(s.breaker.state).toBe('closed')
  })
})

describe('CircuitBreaker: caller errors', () => {
  it('never opens on InvalidArgumentError, however many', async () => {
    const s = setup({ failureThreshold: 2 })
    const bad = new InvalidArgumentError('row refused by a constraint')
    for (let i = 0; i < 50; i++) await expect(s.breaker.run(s.backend.failWith(bad))).rejects.toBe(bad)
    expect(s.breaker.state).toBe('closed')
    expect(s.breaker.stats()).toMatchObject({ ignoredErrors: 50, failures: 0, recentFailures: 0 })
  })

  it('does not open on key-level Redis replies, but does on server-state replies', async () => {
    const s = setup({ failureThreshold: 2 })
    const wrongType = new RedisReplyError('WRONGTYPE Operation against a key holding the wrong kind of value')
    for (let i = 0; i < 5; i++)
      await expect(s.breaker.run(s.backend.failWith(wrongType))).rejects.toBe(wrongType)
    expect(s.breaker.state).toBe('closed')

    const loading = new RedisReplyError('LOADING Redis is loading the dataset in memory')
    for (let i = 0; i < 2; i++) await expect(s.breaker.run(s.backend.failWith(loading))).rejects.toBe(loading)
    expect(s.breaker.state).toBe('open')
  })

  it('does not open on errors of unknown origin (a bug in the caller is not an outage)', async () => {
    const s = setup({ failureThreshold: 2 })
    for (let i = 0; i < 5; i++) {
      await expect(s.breaker.run(s.backend.failWith(new TypeError('x is undefined')))).rejects.toThrow(
        TypeError,
      )
    }
    expect(s.breaker.state).toBe('closed')
  })

  it('uses a custom isFailure when given one, and counts when it throws', async () => {
    const counting = setup({ failureThreshold: 2, isFailure: (error) => error instanceof TypeError })
    for (let i = 0; i < 2; i++) {
      await expect(counting.breaker.run(counting.backend.failWith(new TypeError('t')))).rejects.toThrow()
    }
    expect(counting.breaker.state).toBe('open')

    const ignoring = setup({ failureThreshold: 2, isFailure: () => false })
    await failTimes(ignoring.breaker, ignoring.backend, 5)
    expect(ignoring.breaker.state).toBe('closed')

    const broken = setup({
      failureThreshold: 2,
      isFailure: () => {
        throw new Error('predicate bug')
      },
    })
    await failTimes(broken.breaker, broken.backend, 2)
    expect(broken.breaker.state).toBe('open')
  })
})

describe('CircuitBreaker: deadlines', () => {
  it('gives up a hung call at deadlineMs with a typed error that counts as a failure', async () => {
    const s = setup({ failureThreshold: 2, deadlineMs: 100 })
    const outcomes = [s.breaker.run(s.backend.deferred), s.breaker.run(s.backend.deferred)].map((p) =>
      p.catch((error: unknown) => error),
    )
    s.platform.advance(99)
    expect(s.breaker.state).toBe('closed')
    s.platform.advance(1)
    for (const error of await Promise.all(outcomes)) {
      expect(error).toBeInstanceOf(DeadlineExceededError)
      expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', tier: 'l3', deadlineMs: 100 })
    }
    expect(s.breaker.state).toBe('open')
    expect(s.breaker.stats()).toMatchObject({ failures: 2, timeouts: 2 })
    expect(s.platform.pendingTimers).toBe(0)
  })

  it('takes a per-call deadline and names the operation', async () => {
    const s = setup({ deadlineMs: 100 })
    const outcome = s.breaker
      .run(s.backend.deferred, { deadlineMs: 1_000, operation: 'flush' })
      .catch((error: unknown) => error)
    s.platform.advance(999)
    await macrotask()
    expect(s.backend.call(0).signal.aborted).toBe(false)
    s.platform.advance(1)
    const error = await outcome
    expect(error).toMatchObject({ deadlineMs: 1_000, operation: 'flush' })
  })

  it('rejects an invalid per-call deadline before calling the backend', async () => {
    const s = setup()
    await expect(s.breaker.run(s.backend.ok, { deadlineMs: -1 })).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(s.backend.calls).toBe(0)
    expect(s.breaker.stats().calls).toBe(0)
  })

  it('leaves no timer behind after successes, failures, timeouts and rejections', async () => {
    const s = setup({ failureThreshold: 2, deadlineMs: 100 })
    await s.breaker.run(s.backend.ok)
    await failTimes(s.breaker, s.backend, 1)
    const hung = s.breaker.run(s.backend.deferred).catch(() => {})
    expect(s.platform.pendingTimers).toBe(1)
    s.platform.advance(100)
    await hung
    expect(s.breaker.state).toBe('open')
    await rejection(s.breaker.run(s.backend.ok))
    expect(s.platform.pendingTimers).toBe(0)
  })
})

describe('CircuitBreaker: outcomes from before a state change', () => {
  it('a slow failure admitted before the outage does not re-open a recovered circuit', async () => {
    const s = setup({ failureThreshold: 2, deadlineMs: 10_000 })
    const slow = s.breaker.run(s.backend.deferred).catch(() => {})
    await trip(s)
    s.platform.advance(s.breaker.options.openMs)
    await s.breaker.run(s.backend.ok)
    expect(s.breaker.state).toBe('closed')

    s.backend.call(0).reject(new BackendError('l3', 'connection reset'))
    await slow
    expect(s.breaker.stats()).toMatchObject({ state: 'closed', recentFailures: 0 })
    // Had the stale failure counted, this one would be the second in the window and open it.
    await failTimes(s.breaker, s.backend, 1)
    expect(s.breaker.state).toBe('closed')
  })

  it('a success of a call admitted while closed does not close a half-open circuit', async () => {
    const s = setup({ failureThreshold: 2, deadlineMs: 10_000 })
    const slow = s.breaker.run(s.backend.deferred)
    await trip(s)
    s.platform.advance(s.breaker.options.openMs)
    expect(s.breaker.state).toBe('half-open')

    s.backend.call(0).resolve('slow but fine')
    await expect(slow).resolves.toBe('slow but fine')
    expect(s.breaker.state).toBe('half-open')
    // The probe slot is still free: only a real probe decides.
    await expect(s.breaker.run(s.backend.down)).rejects.toBeInstanceOf(BackendError)
    expect(s.breaker.state).toBe('open')
  })
})

describe('CircuitBreaker: listeners, counters, reset', () => {
  it('reports every transition once, in order, and counts them', async () => {
    const s = setup({ successesToClose: 1 })
    await trip(s)
    s.platform.advance(s.breaker.options.openMs)
    await expect(s.breaker.run(s.backend.down)).rejects.toThrow()
    s.platform.advance(s.breaker.options.maxOpenMs)
    await s.breaker.run(s.backend.ok)
    expect(s.changes).toEqual([
      'closed->open',
      'open->half-open',
      'half-open->open',
      'open->half-open',
      'half-open->closed',
    ])
    expect(s.breaker.stats()).toMatchObject({
      state: 'closed',
      transitions: 5,
      opens: 2,
      calls: 5,
      successes: 1,
      failures: 4,
      rejections: 0,
    })
  })

  it('stops calling an unsubscribed listener', async () => {
    const s = setup()
    const seen: BreakerState[] = []
    const unsubscribe = s.breaker.onStateChange((state) => seen.push(state))
    await trip(s)
    unsubscribe()
    s.breaker.reset()
    expect(seen).toEqual(['open'])
    expect(s.changes).toEqual(['closed->open', 'open->closed'])
  })

  it('a throwing listener neither changes the call outcome nor the bookkeeping', async () => {
    const s = setup({ failureThreshold: 1 })
    s.breaker.onStateChange(() => {
      throw new Error('metrics exporter down')
    })
    const error = new BackendError('l3', 'down')
    await expect(s.breaker.run(s.backend.failWith(error))).rejects.toBe(error)
    expect(s.breaker.state).toBe('open')
    expect(s.changes).toEqual(['closed->open'])
  })

  it('reset() closes an open circuit and keeps the monotonic counters', async () => {
    const s = setup()
    await trip(s)
    s.breaker.reset()
    expect(s.breaker.state).toBe('closed')
    await expect(s.breaker.run(s.backend.ok)).resolves.toBe('value')
    expect(s.breaker.stats()).toMatchObject({ opens: 1, failures: 3, calls: 4, transitions: 2 })
  })

  it('reset() forgets failures in the window and the backoff', async () => {
    const s = setup({ failureThreshold: 3, openMs: 100, maxOpenMs: 10_000 })
    await failTimes(s.breaker, s.backend, 2)
    s.breaker.reset()
    await failTimes(s.breaker, s.backend, 2)
    expect(s.breaker.state).toBe('closed')

    await failTimes(s.breaker, s.backend, 1)
    s.platform.advance(100)
    await expect(s.breaker.run(s.backend.down)).rejects.toThrow()
    expect(s.breaker.stats().retryAfterMs).toBe(200)
    s.breaker.reset()
    await trip(s)
    expect(s.breaker.stats().retryAfterMs).toBe(100)
  })

  it('reset() during a probe: the probe outcome no longer counts', async () => {
    const s = setup()
    await trip(s)
    s.platform.advance(s.breaker.options.openMs)
    const probe = s.breaker.run(s.backend.deferred).catch(() => {})
    s.breaker.reset()
    s.backend.call(0).reject(new BackendError('l3', 'late'))
    await probe
    expect(s.breaker.stats()).toMatchObject({ state: 'closed', recentFailures: 0 })
  })
})

describe('CircuitBreaker: a probe from before a reset', () => {
  it('cannot close the circuit once a newer probe holds the slot', async () => {
    const s = setup({ deadlineMs: 10_000 })
    await trip(s)
    s.platform.advance(s.breaker.options.openMs)
    const oldProbe = s.breaker.run(s.backend.deferred)
    s.breaker.reset()
    await trip(s)
    s.platform.advance(s.breaker.options.openMs)
    const newProbe = s.breaker.run(s.backend.deferred).catch(() => {})

    s.backend.call(0).resolve('old news')
    await oldProbe
    expect(s.breaker.state).toBe('half-open')
    await rejection(s.breaker.run(s.backend.ok))
    s.backend.call(1).reject(new BackendError('l3', 'still down'))
    await newProbe
    expect(s.breaker.state).toBe('open')
  })
})

describe('CircuitBreaker: clock', () => {
  it('a wall clock moved backwards does not hold the circuit open longer than its period', async () => {
    const s = setup({ openMs: 500 })
    await trip(s)
    s.platform.setTime(s.platform.now() - 3_600_000)
    expect(s.breaker.state).toBe('open')
    s.platform.advance(499)
    expect(s.breaker.state).toBe('open')
    s.platform.advance(1)
    expect(s.breaker.state).toBe('half-open')
  })
})

describe('breaker options', () => {
  it('defaults to 5 failures in 10 s, 5 s open backing off to 60 s, one probe to close', () => {
    const breaker = new CircuitBreaker('l2', new FakePlatform())
    expect(breaker.options).toEqual(DEFAULT_BREAKER_OPTIONS.l2)
    expect(DEFAULT_BREAKER_OPTIONS.l2).toMatchObject({
      failureThreshold: 5,
      windowMs: 10_000,
      openMs: 5_000,
      maxOpenMs: 60_000,
      successesToClose: 1,
    })
    expect(DEFAULT_BREAKER_OPTIONS.l3.deadlineMs).toBeGreaterThan(DEFAULT_BREAKER_OPTIONS.l2.deadlineMs)
  })

  it('lets maxOpenMs follow an openMs set above its default', () => {
    const breaker = new CircuitBreaker('l3', new FakePlatform(), { openMs: 120_000 })
    expect(breaker.options.maxOpenMs).toBe(120_000)
  })

  it('rejects invalid options with a ConfigError naming each field', () => {
    const make = () =>
      new CircuitBreaker('l3', new FakePlatform(), {
        failureThreshold: 0,
        windowMs: Number.NaN,
        openMs: 1_000,
        maxOpenMs: 999,
        successesToClose: 1.5,
        deadlineMs: 0,
      })
    expect(make).toThrow(ConfigError)
    try {
      make()
    } catch (error) {
      expect((error as ConfigError).fields).toEqual([
        'failureThreshold',
        'windowMs',
        'maxOpenMs',
        'successesToClose',
        'deadlineMs',
      ])
    }
  })
})
