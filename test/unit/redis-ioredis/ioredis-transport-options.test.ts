import { InvalidArgumentError } from '@sync-engine/core'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { describe, expect, it } from 'vitest'

// Every backend call must have a deadline: a zero or negative one is refused before any connection
// is attempted (ioredis would read 0 as "time out every command at once").
describe('IoredisTransport options', () => {
  it.each([
    { commandTimeoutMs: 0 },
    { commandTimeoutMs: -1 },
    { connectTimeoutMs: 0 },
    { commandTimeoutMs: 1.5 },
    { maxReconnectDelayMs: 0 },
  ])('refuses %o with InvalidArgumentError', async (options) => {
    const error = await IoredisTransport.create({ url: 'redis://127.0.0.1:1', ...options }).catch((e) => e)
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).toContain(Object.keys(options)[0]!)
  })
})
