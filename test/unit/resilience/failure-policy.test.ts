import {
  BackendError,
  CircuitOpenError,
  ConfigError,
  CorruptionError,
  DeadlineExceededError,
  EngineStateError,
  InvalidArgumentError,
  InvalidIdError,
  isBackendFailure,
  NotFoundError,
  PayloadTooLargeError,
  RedisReplyError,
} from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'

function namedError(name: string): Error {
  const error = new Error('timed out')
  error.name = name
  return error
}

describe('isBackendFailure (the default failure policy)', () => {
  it('counts backend errors and timeouts', () => {
    const counted = [
      new BackendError('l3', 'connection refused'),
      new BackendError('l2', 'socket closed'),
      new DeadlineExceededError('l2', 100),
      namedError('TimeoutError'),
      new RedisReplyError('LOADING Redis is loading the dataset in memory'),
      new RedisReplyError('BUSY Redis is busy running a script'),
      new RedisReplyError('MASTERDOWN Link with MASTER is down'),
      new RedisReplyError('CLUSTERDOWN The cluster is down'),
      new RedisReplyError('READONLY You can not write against a read only replica'),
      new RedisReplyError("OOM command not allowed when used memory > 'maxmemory'"),
      new RedisReplyError('ERR max number of clients reached'),
    ]
    for (const error of counted)
      expect([error.message, isBackendFailure(error)]).toEqual([error.message, true])
  })

  it('does not count caller errors, per-key replies, open circuits or unknown errors', () => {
    const ignored: unknown[] = [
      new InvalidArgumentError('bad ttl'),
      new InvalidIdError('empty id'),
      new PayloadTooLargeError(10, 5),
      new NotFoundError('missing'),
      new CorruptionError('a', 'x', 'y'),
      new ConfigError('bad', ['x']),
      new EngineStateError('stopping', 'submit'),
      new CircuitOpenError('l3', 'open', 100),
      new RedisReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'),
      new RedisReplyError('NOSCRIPT No matching script'),
      new RedisReplyError("ERR unknown command 'FOO'"),
      new TypeError('cannot read properties of undefined'),
      namedError('AbortError'),
      'a string',
      undefined,
    ]
    for (const error of ignored)
      expect([String(error), isBackendFailure(error)]).toEqual([String(error), false])
  })

  it('describes an open circuit with its tier and wait, as a retryable 503', () => {
    const open = new CircuitOpenError('l2', 'open', 1_500)
    expect(open).toMatchObject({
      code: 'CIRCUIT_OPEN',
      status: 503,
      retryable: true,
      tier: 'l2',
      retryAfterMs: 1_500,
    })
    expect(open.message).toBe('l2: circuit open, next probe in 1500 ms')
    expect(open.name).toBe('CircuitOpenError')
  })
})
