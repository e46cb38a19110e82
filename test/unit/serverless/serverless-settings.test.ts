import { ConfigError } from '@sync-engine/core'
import { serverlessSettings } from '@sync-engine/serverless'
import { describe, expect, it } from 'vitest'

const TOKENS = { SYNC_API_TOKENS: 'a-token-of-at-least-16' }
const UPSTASH = {
  UPSTASH_REDIS_REST_URL: 'https://eu1.upstash.io',
  UPSTASH_REDIS_REST_TOKEN: 'upstash-secret',
}
const PLANETSCALE = { PLANETSCALE_URL: 'https://user:ps-secret@aws.connect.psdb.cloud' }

function refusal(env: Record<string, string>, runtime: 'lambda' | 'worker', role: 'api' | 'flusher' = 'api') {
  try {
    serverlessSettings(env, runtime, role)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).message
  }
  throw new Error('expected a ConfigError')
}

describe('serverless settings', () => {
  it('takes Upstash and PlanetScale on both runtimes, and keeps writes in the outbox', () => {
    for (const runtime of ['lambda', 'worker'] as const) {
      const settings = serverlessSettings({ ...TOKENS, ...UPSTASH, ...PLANETSCALE }, runtime)
      expect(settings.redis).toEqual({
        driver: 'upstash',
        url: UPSTASH.UPSTASH_REDIS_REST_URL,
        token: 'upstash-secret',
      })
      expect(settings.sql).toEqual({ driver: 'planetscale', url: PLANETSCALE.PLANETSCALE_URL })
      expect(settings.config.log).toBe('redis')
      expect(settings.config.defaultAck).toBe('logged')
    }
  })

  it('takes redis:// and mysql:// (mariadb:// too) on Lambda', () => {
    const settings = serverlessSettings(
      { ...TOKENS, SYNC_REDIS_URL: 'rediss://:pw@cache:6379', SYNC_SQL_URL: 'mariadb://u:pw@db:3306/app' },
      'lambda',
    )
    expect(settings.redis).toEqual({ driver: 'ioredis', url: 'rediss://:pw@cache:6379' })
    expect(settings.sql).toEqual({ driver: 'mysql2', url: 'mysql://u:pw@db:3306/app' })
  })

  it('a Worker refuses socket URLs and names the HTTP settings instead', () => {
    expect(refusal({ ...TOKENS, SYNC_REDIS_URL: 'redis://h:6379', ...PLANETSCALE }, 'worker')).toMatch(
      /UPSTASH_REDIS_REST_URL.*UPSTASH_REDIS_REST_TOKEN/,
    )
    expect(refusal({ ...TOKENS, ...UPSTASH, SYNC_SQL_URL: 'mysql://u:pw@h/db' }, 'worker')).toContain(
      'PLANETSCALE_URL',
    )
  })

  it('refuses a missing, half or doubled configuration, naming variables and never a value', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...TOKENS, ...PLANETSCALE }, /UPSTASH_REDIS_REST_URL/],
      [
        { ...TOKENS, UPSTASH_REDIS_REST_URL: UPSTASH.UPSTASH_REDIS_REST_URL, ...PLANETSCALE },
        /UPSTASH_REDIS_REST_TOKEN/,
      ],
      [{ ...TOKENS, ...UPSTASH, SYNC_REDIS_URL: 'redis://h', ...PLANETSCALE }, /not both/],
      [{ ...TOKENS, ...UPSTASH }, /PLANETSCALE_URL/],
      [{ ...TOKENS, ...UPSTASH, ...PLANETSCALE, SYNC_SQL_URL: 'mysql://u:pw@h/db' }, /not both/],
      [{ ...TOKENS, ...UPSTASH, SYNC_SQL_URL: 'sqlite:./data/x.db' }, /mysql:\/\//],
      [{ ...TOKENS, ...UPSTASH, PLANETSCALE_URL: 'mysql://user:ps-secret@h' }, /https:\/\//],
      [{ ...TOKENS, ...UPSTASH, PLANETSCALE_URL: 'https://aws.connect.psdb.cloud' }, /PLANETSCALE_URL/],
      [{ ...TOKENS, ...UPSTASH, PLANETSCALE_URL: 'https://user@aws.connect.psdb.cloud' }, /PLANETSCALE_URL/],
      [{ ...UPSTASH, ...PLANETSCALE }, /SYNC_API_TOKENS/],
    ]
    for (const [env, expected] of cases) {
      const message = refusal(env, 'lambda')
      expect(message).toMatch(expected)
      for (const secret of ['upstash-secret', 'ps-secret', ':pw@']) expect(message).not.toContain(secret)
    }
  })

  it('the flusher serves no HTTP and needs no API token', () => {
    expect(serverlessSettings({ ...UPSTASH, ...PLANETSCALE }, 'lambda', 'flusher').config.apiTokens).toEqual(
      [],
    )
  })
})
