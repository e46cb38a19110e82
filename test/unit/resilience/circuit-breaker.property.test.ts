import {
  BackendError,
  type BreakerState,
  CircuitBreaker,
  CircuitOpenError,
  type DeadlineSignal,
  InvalidArgumentError,
} from '@sync-engine/core/internal'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FakePlatform, macrotask } from '../../support/fake-platform.ts'

type Outcome = 'ok' | 'down' | 'caller'

type Command =
  /** A call that answers at once with `outcome`, or stays pending (`'hold'`) until a `settle`. */
  | { readonly kind: 'call'; readonly outcome: Outcome | 'hold' }
  | { readonly kind: 'settle'; readonly pick: number; readonly outcome: Outcome }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'reset' }

// Failures weigh more than successes so that runs reach open, half-open and backoff often.
const outcomeArb = fc.constantFrom<Outcome>('ok', 'down', 'down', 'caller')

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('call' as const),
      outcome: fc.oneof(outcomeArb, fc.constant('hold' as const)),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('settle' as const), pick: fc.nat(), outcome: outcomeArb }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 2_500 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' } as const) },
)

const optionsArb = fc
  .record({
    failureThreshold: fc.integer({ min: 1, max: 4 }),
    windowMs: fc.integer({ min: 1, max: 3_000 }),
    openMs: fc.integer({ min: 1, max: 2_000 }),
    backoffCap: fc.integer({ min: 1, max: 8 }),
    successesToClose: fc.integer({ min: 1, max: 3 }),
    deadlineMs: fc.integer({ min: 1, max: 3_000 }),
  })
  .map(({ backoffCap, ...options }) => ({ ...options, maxOpenMs: options.openMs * backoffCap }))

const LEGAL: ReadonlySet<string> = new Set([
  'closed->open',
  'open->half-open',
  'half-open->open',
  'half-open->closed',
  // reset()
  'open->closed',
])

interface BackendCall {
  readonly signal: DeadlineSignal
  resolve(value: string): void
  reject(error: unknown): void
}

describe('CircuitBreaker property', () => {
  it('never calls the backend while open, never runs two probes, and refuses only when it must', async () => {
    await fc.assert(
      fc.asyncProperty(
        optionsArb,
        fc.array(commandArb, { minLength: 1, maxLength: 150, size: 'max' }),
        async (options, commands) => {
          const platform = new FakePlatform(0)
          const breaker = new CircuitBreaker('l2', platform, options)

          // An independent account of the breaker, kept from its transitions only.
          let state: BreakerState = 'closed'
          let openedAt = 0
          let openFor = 0
          let failedProbes = 0
          // The breaker swallows what its listeners throw, and a throw inside the backend call would
          // just be that call's error: so violations are collected and asserted outside.
          const violations: string[] = []
          const check = (ok: boolean, what: string) => {
            if (!ok) violations.push(`${what} (at ${platform.now()})`)
          }
          breaker.onStateChange((next, previous) => {
            check(LEGAL.has(`${previous}->${next}`), `illegal transition ${previous}->${next}`)
            check(previous === state, `transition from ${previous}, but the breaker was ${state}`)
            const now = platform.now()
            if (next === 'half-open') {
              check(now - openedAt >= openFor, `half-open after ${now - openedAt} ms of ${openFor}`)
            }
            if (next === 'open') {
              failedProbes = previous === 'half-open' ? failedProbes + 1 : 0
              openedAt = now
              openFor = Math.min(options.maxOpenMs, options.openMs * 2 ** failedProbes)
            }
            if (next === 'closed') failedProbes = 0
            state = next
          })

          const pending: BackendCall[] = []
          let backendCalls = 0
          let probesInFlight = 0
          let probeEpoch = 0
          let rejections = 0

          const settle = (call: BackendCall | undefined, outcome: Outcome) => {
            if (outcome === 'ok') call?.resolve('value')
            else if (outcome === 'down') call?.reject(new BackendError('l2', 'connection reset'))
            else call?.reject(new InvalidArgumentError('bad item'))
          }
          const backendAnswering =
            (outcome: Outcome | 'hold') =>
            (signal: DeadlineSignal): Promise<string> => {
              backendCalls++
              // Safety 1: the backend is never reached while the circuit is open.
              check(state !== 'open', 'backend called while open')
              return new Promise<string>((resolve, reject) => {
                const call = { signal, resolve, reject }
                if (outcome === 'hold') pending.push(call)
                else settle(call, outcome)
              })
            }

          for (const command of commands) {
            switch (command.kind) {
              case 'call': {
                const before = breaker.state // settles a due open → half-open first
                const callsBefore = backendCalls
                const probe = before === 'half-open'
                const mustPass = before === 'closed' || (probe && probesInFlight === 0)
                const epoch = probeEpoch
                if (probe && mustPass) probesInFlight++
                const run = breaker.run(backendAnswering(command.outcome))
                run.then(
                  () => {
                    if (probe && mustPass && epoch === probeEpoch) probesInFlight--
                  },
                  (error: unknown) => {
                    if (probe && mustPass && epoch === probeEpoch) probesInFlight--
                    if (error instanceof CircuitOpenError) rejections++
                  },
                )
                // Exactly when closed, or half-open with no probe running, the backend is called. This is
                // safety 2 (a second concurrent probe would reach the backend) and liveness at once.
                expect(backendCalls - callsBefore).toBe(mustPass ? 1 : 0)
                if (!mustPass) {
                  const error = await run.catch((e: unknown) => e)
                  expect(error).toBeInstanceOf(CircuitOpenError)
                  if (before === 'open') {
                    expect((error as CircuitOpenError).retryAfterMs).toBe(openedAt + openFor - platform.now())
                  }
                }
                break
              }
              case 'settle': {
                if (pending.length === 0) break
                settle(pending.splice(command.pick % pending.length, 1)[0], command.outcome)
                break
              }
              case 'advance':
                platform.advance(command.ms)
                break
              case 'reset':
                breaker.reset()
                // Whatever was probing before the reset is no longer a probe.
                probeEpoch++
                probesInFlight = 0
                break
            }
            await macrotask()
            expect(violations).toEqual([])
            expect(breaker.stats().state).toBe(state)
          }

          // Let every deadline pass: everything settles and no timer is left behind.
          platform.advance(options.deadlineMs)
          await macrotask()
          expect(violations).toEqual([])
          expect(platform.pendingTimers).toBe(0)
          const stats = breaker.stats()
          expect(stats.calls).toBe(backendCalls)
          expect(stats.rejections).toBe(rejections)
        },
      ),
      { numRuns: 300 },
    )
  })
})
