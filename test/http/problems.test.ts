import {
  BackendError,
  ConfigError,
  ConflictError,
  CorruptionError,
  EngineStateError,
  FlushError,
  IndexBuildingError,
  InvalidArgumentError,
  InvalidIdError,
  InvalidJsonError,
  NoTierError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  StaleVersionError,
  type SyncEngine,
  type SyncError,
} from '@sync-engine/core'
import {
  createApp,
  MethodNotAllowedError,
  problemFor,
  RequestBodyTooLargeError,
  UnauthorizedError,
} from '@sync-engine/http'
import { describe, expect, it } from 'vitest'
import { capturingLogger } from './support/capturing-logger.ts'
import { openHttpTestEngine } from './support/http-test-engine.ts'
import { expectProblem } from './support/problem-assertions.ts'

const BASE = 'https://sync-engine.dev/problems/'

describe('problemFor', () => {
  it.each<[SyncError, number, string]>([
    [new InvalidIdError('bad id'), 400, 'invalid-id'],
    [new PayloadTooLargeError(10, 5), 413, 'payload-too-large'],
    [new InvalidJsonError('bad json'), 400, 'invalid-json'],
    [new InvalidArgumentError('bad arg'), 400, 'invalid-argument'],
    [new NoTierError('no tier'), 422, 'no-tier'],
    [new ConfigError('bad config', ['host']), 500, 'config-invalid'],
    [new EngineStateError('stopped', 'get'), 503, 'engine-state'],
    [new BackendError('l3', 'down'), 503, 'backend-error'],
    [new FlushError('flush failed'), 503, 'flush-failed'],
    [new NotFoundError('nope'), 404, 'not-found'],
    [new ConflictError('stored already'), 409, 'conflict'],
    [new IndexBuildingError('users', 500), 503, 'index-building'],
    [new UnauthorizedError('missing'), 401, 'unauthorized'],
    [new MethodNotAllowedError('POST', ['GET']), 405, 'method-not-allowed'],
    [new RequestBodyTooLargeError(5, undefined), 413, 'payload-too-large'],
  ])('%s → %i %s with the error message as detail', (error, status, type) => {
    const { problem } = problemFor(error)
    expect(problem).toEqual({
      type: `${BASE}${type}`,
      title: expect.any(String),
      status,
      detail: error.message,
      code: error.code,
    })
  })

  it.each<[SyncError, number, string, Record<string, unknown>]>([
    [new StaleVersionError('doc', 1, 7), 409, 'stale-version', { id: 'doc', version: 1, currentVersion: 7 }],
    [
      new PreconditionFailedError('doc', 5, 7),
      412,
      'precondition-failed',
      { id: 'doc', expectedVersion: 5, currentVersion: 7 },
    ],
    [
      new PreconditionFailedError('doc', 0, 7),
      412,
      'precondition-failed',
      { id: 'doc', expectedVersion: 0, currentVersion: 7 },
    ],
    [new CorruptionError('doc', 'expected-hash', 'actual-hash'), 500, 'corruption', { id: 'doc' }],
  ])('%s → %i %s with the id and versions as extension members', (error, status, type, members) => {
    const answer = problemFor(error)
    expect(answer.problem).toEqual({
      type: `${BASE}${type}`,
      title: expect.any(String),
      status,
      detail: error.message,
      code: error.code,
      ...members,
    })
    // Only the well-known fields: the hashes of a corruption stay in the log.
    expect(JSON.stringify(answer.problem)).not.toContain('expected-hash')
    expect(JSON.stringify(answer.problem)).not.toContain('actual-hash')
    expect(answer.internal).toBe(status >= 500)
  })

  it('shows the message of a corruption (a server error, logged) but never of an unknown error', () => {
    const corruption = problemFor(new CorruptionError('doc', 'a', 'b'))
    expect(corruption.internal).toBe(true)
    expect(corruption.problem.detail).toBe('content of "doc" does not match its hash')
    expect(problemFor(new Error('content of "doc" does not match its hash')).problem.detail).not.toContain(
      'doc',
    )
  })

  it('gives a stable title derived from the code', () => {
    expect(problemFor(new InvalidIdError('x')).problem.title).toBe('Invalid id')
    expect(problemFor(new NoTierError('x')).problem.title).toBe('No tier')
  })

  it('adds Retry-After to retryable 503s, Allow to 405 and WWW-Authenticate to 401', () => {
    expect(problemFor(new EngineStateError('stopping', 'get')).headers).toEqual({ 'retry-after': '1' })
    expect(problemFor(new IndexBuildingError('users', 0)).headers).toEqual({ 'retry-after': '1' })
    expect(problemFor(new MethodNotAllowedError('POST', ['GET', 'HEAD'])).headers).toEqual({
      allow: 'GET, HEAD',
    })
    expect(problemFor(new UnauthorizedError('missing')).headers['www-authenticate']).toMatch(/^Bearer /)
    expect(problemFor(new InvalidIdError('x')).headers).toEqual({})
  })

  it('turns anything else into a 500 internal problem that does not show its message', () => {
    const answer = problemFor(new TypeError('connect ECONNREFUSED mysql://root:hunter2@db'))
    expect(answer.internal).toBe(true)
    expect(answer.problem).toMatchObject({ type: `${BASE}internal`, status: 500, code: 'INTERNAL' })
    expect(JSON.stringify(answer.problem)).not.toContain('hunter2')
    expect(problemFor('a thrown string').problem.status).toBe(500)
  })
})

describe('problems through the app', () => {
  it('an engine that is shut down answers 503 engine-state with Retry-After', async () => {
    const t = await openHttpTestEngine()
    await t.dispose()
    const res = await t.app.request('/v1/items/a')
    expect(res.headers.get('retry-after')).toBe('1')
    await expectProblem(res, 503, 'engine-state')
    // Readiness follows: not ready, same body shape.
    const ready = await t.app.request('/ready')
    expect(ready.status).toBe(503)
    expect(await ready.json()).toMatchObject({ state: 'stopped', ready: false })
    // Liveness does not depend on the engine.
    expect((await t.app.request('/health')).status).toBe(200)
  })

  it('an unexpected error answers 500 internal with a generic detail, and is logged in full', async () => {
    const logger = capturingLogger()
    // Not a mock of storage: a stand-in engine whose read fails with a non-SyncError, the case
    // the real engine is built never to produce.
    const failing = {
      config: { maxPayloadBytes: 1024 },
      getCached: () => undefined,
      get: async () => {
        throw new TypeError('secret internals: password=hunter2')
      },
    } as unknown as SyncEngine
    const app = createApp({ engine: failing, config: { apiTokens: [] }, logger })
    const problem = await expectProblem(await app.request('/v1/items/a'), 500, 'internal')
    expect(problem.detail).not.toContain('hunter2')
    const logged = logger.entries.find((e) => e.level === 'error' && e.fields.err !== undefined)
    expect(JSON.stringify(logged?.fields.err)).toContain('secret internals')
  })
})
