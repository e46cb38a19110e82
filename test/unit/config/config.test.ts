import {
  ConfigError,
  configFromEnv,
  ENV_VARS,
  LIVE_FIELDS,
  loadConfig,
  parseConfig,
  redactUrl,
  SECRET_FIELDS,
} from '@sync-engine/core'
import { describe, expect, it } from 'vitest'

function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).code).toBe('CONFIG_INVALID')
    return error as ConfigError
  }
  throw new Error('expected a ConfigError, nothing was thrown')
}

const MiB = 1024 * 1024

describe('config defaults', () => {
  it('works with nothing configured: L1 + SQLite under ./data, loopback, no Redis', () => {
    const config = loadConfig()
    expect(config).toEqual({
      redisPrefix: 'sync:',
      redisShards: 16,
      // Logged writes wait in a SQLite file under dataDir (the Redis outbox is opt-in on Node).
      log: 'local',
      sqlTable: 'sync_items',
      dataDir: './data',
      host: '127.0.0.1',
      port: 8787,
      apiTokens: [],
      l1MaxBytes: 256 * MiB,
      maxPayloadBytes: 16 * MiB,
      batchFlushCount: 1000,
      batchFlushBytes: 1 * MiB,
      batchFlushMs: 100,
      // `logged` needs a write-ahead log; an engine without one serves it as `stored`.
      defaultAck: 'logged',
      walMaxBytes: 1024 * MiB,
      queueMaxBytes: 64 * MiB,
      requireL3AtStart: false,
      l3SingleWriter: false,
      // Searches are answered from L3's side tables unless RediSearch is asked for.
      searchBackend: 'sql',
      tombstoneRetentionMs: 7 * 24 * 3_600_000,
      logLevel: 'info',
    })
    expect(config.sqlUrl).toBeUndefined()
    expect(config.redisUrl).toBeUndefined()
    expect(config.l1TtlMs).toBeUndefined()
  })

  it('parseConfig({}) equals loadConfig()', () => {
    expect(parseConfig({})).toEqual(loadConfig())
  })
})

describe('env vars', () => {
  it('maps every field to SYNC_ + UPPER_SNAKE', () => {
    expect(ENV_VARS.port).toBe('SYNC_PORT')
    expect(ENV_VARS.l1MaxBytes).toBe('SYNC_L1_MAX_BYTES')
    expect(ENV_VARS.apiTokens).toBe('SYNC_API_TOKENS')
    expect(ENV_VARS.sqlUrl).toBe('SYNC_SQL_URL')
    expect(ENV_VARS.redisUrl).toBe('SYNC_REDIS_URL')
    expect(ENV_VARS.batchFlushMs).toBe('SYNC_BATCH_FLUSH_MS')
    expect(ENV_VARS.tombstoneRetentionMs).toBe('SYNC_TOMBSTONE_RETENTION_MS')
  })

  it('parses numbers, comma lists and strings', () => {
    const config = loadConfig({
      env: {
        SYNC_PORT: '9090',
        SYNC_L1_MAX_BYTES: ' 1048576 ',
        SYNC_API_TOKENS: 'aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbb,,',
        SYNC_SQL_URL: 'sqlite:/tmp/x.db',
        SYNC_REDIS_URL: 'redis://localhost:6379',
        SYNC_BATCH_FLUSH_COUNT: '50',
        SYNC_DEFAULT_ACK: 'queued',
        SYNC_LOG_LEVEL: 'debug',
        SYNC_HOST: '0.0.0.0',
        SYNC_L1_TTL_MS: '30000',
      },
    })
    expect(config.port).toBe(9090)
    expect(config.l1MaxBytes).toBe(1_048_576)
    expect(config.apiTokens).toEqual(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbb'])
    expect(config.sqlUrl).toBe('sqlite:/tmp/x.db')
    expect(config.redisUrl).toBe('redis://localhost:6379')
    expect(config.batchFlushCount).toBe(50)
    expect(config.defaultAck).toBe('queued')
    expect(config.logLevel).toBe('debug')
    expect(config.host).toBe('0.0.0.0')
    expect(config.l1TtlMs).toBe(30_000)
  })

  it('ignores empty env vars and variables it does not know', () => {
    const config = loadConfig({ env: { SYNC_PORT: '', SYNC_SOMETHING_ELSE: 'x', PATH: '/usr/bin' } })
    expect(config.port).toBe(8787)
  })

  it('explicit overrides win over env vars; undefined overrides do not erase them', () => {
    const config = loadConfig({
      env: { SYNC_PORT: '9090', SYNC_HOST: '::1' },
      overrides: { port: 1234, host: undefined },
    })
    expect(config.port).toBe(1234)
    expect(config.host).toBe('::1')
  })

  it('configFromEnv keeps a non-numeric value of a number field as a string, so validation can name it', () => {
    expect(configFromEnv({ SYNC_PORT: 'abc' })).toEqual({ port: 'abc' })
    expect(configFromEnv({ SYNC_PORT: '-1' })).toEqual({ port: -1 })
  })
})

describe('config errors', () => {
  it('SYNC_PORT=abc names the field and the env var', () => {
    const error = configError(() => loadConfig({ env: { SYNC_PORT: 'abc' } }))
    expect(error.message).toContain('port')
    expect(error.message).toContain('SYNC_PORT')
    expect(error.fields).toEqual(['port'])
  })

  it('out-of-range and fractional numbers are rejected', () => {
    expect(configError(() => loadConfig({ env: { SYNC_PORT: '70000' } })).fields).toEqual(['port'])
    expect(configError(() => loadConfig({ env: { SYNC_L1_MAX_BYTES: '0' } })).fields).toEqual(['l1MaxBytes'])
    expect(configError(() => loadConfig({ env: { SYNC_BATCH_FLUSH_MS: '1.5' } })).fields).toEqual([
      'batchFlushMs',
    ])
    expect(configError(() => parseConfig({ batchFlushMs: 60_001 })).fields).toEqual(['batchFlushMs'])
    expect(configError(() => parseConfig({ maxPayloadBytes: 65 * MiB })).fields).toEqual(['maxPayloadBytes'])
  })

  it('reports every bad field at once', () => {
    const error = configError(() =>
      loadConfig({
        env: { SYNC_DEFAULT_ACK: 'maybe', SYNC_L1_MAX_BYTES: '-5', SYNC_SQL_TABLE: 'drop table;' },
      }),
    )
    expect([...error.fields].sort()).toEqual(['defaultAck', 'l1MaxBytes', 'sqlTable'])
    expect(error.message).toContain('SYNC_DEFAULT_ACK')
    expect(error.message).toContain('SYNC_L1_MAX_BYTES')
    expect(error.message).toContain('SYNC_SQL_TABLE')
  })

  it('a too-short API token is rejected without echoing any token', () => {
    const short = 'tiny-secret-tok'
    const long = 'a-perfectly-long-secret-token-xyz'
    const error = configError(() => loadConfig({ env: { SYNC_API_TOKENS: `${long},${short}` } }))
    expect(error.fields).toEqual(['apiTokens'])
    expect(error.message).toContain('SYNC_API_TOKENS')
    expect(error.message).not.toContain(short)
    expect(error.message).not.toContain(long)
  })

  it('an invalid sqlUrl or redisUrl is rejected without echoing its value', () => {
    const sqlUrl = configError(() => parseConfig({ sqlUrl: ['mysql://root:hunter2@db/app'] }))
    expect(sqlUrl.fields).toEqual(['sqlUrl'])
    expect(sqlUrl.message).not.toContain('hunter2')
    const redisUrl = configError(() => parseConfig({ redisUrl: { url: 'redis://:s3cr3t@cache' } }))
    expect(redisUrl.fields).toEqual(['redisUrl'])
    expect(redisUrl.message).not.toContain('s3cr3t')
  })

  it('a secret never leaks through another field failing in the same config', () => {
    const error = configError(() =>
      loadConfig({
        env: {
          SYNC_SQL_URL: 'mysql://root:hunter2@db/app',
          SYNC_API_TOKENS: 'x'.repeat(32),
          SYNC_PORT: 'abc',
        },
      }),
    )
    expect(error.fields).toEqual(['port'])
    expect(error.message).not.toContain('hunter2')
    expect(error.message).not.toContain('x'.repeat(32))
  })

  it('a credential pasted into a field that holds none is not repeated; a short typo is', () => {
    for (const env of [
      { SYNC_REDIS_SHARDS: 'rediss://default:hunter2@cache:6379' },
      { SYNC_LOG_LEVEL: 'mysql://root:hunter2@db/app' },
      { SYNC_LOG_LEVEL: 'sk_live_0123456789abcdef' },
    ]) {
      const error = configError(() => loadConfig({ env }))
      expect(error.message).not.toContain('hunter2')
      expect(error.message).not.toContain('sk_live')
      expect(error.message).toMatch(/not repeated/)
    }
    expect(configError(() => loadConfig({ env: { SYNC_LOG_LEVEL: 'inof' } })).message).toContain('"inof"')
  })

  it('a config that is not an object is rejected without echoing it (it may be a URL or token list)', () => {
    const asString = configError(() => parseConfig('mysql://root:hunter2@db/app'))
    expect(asString.message).not.toContain('hunter2')
    const asArray = configError(() => parseConfig(['a-perfectly-long-secret-token-xyz']))
    expect(asArray.message).not.toContain('a-perfectly-long-secret-token-xyz')
  })

  it('unknown keys are rejected, each named in fields', () => {
    const one = configError(() => parseConfig({ prot: 80 }))
    expect(one.fields).toEqual(['prot'])
    expect(one.message).toContain('prot')
    const two = configError(() => loadConfig({ overrides: { foo: 1, bar: 2 } as never }))
    expect([...two.fields].sort()).toEqual(['bar', 'foo'])
  })

  it('a bad log level or ack names its field', () => {
    expect(configError(() => parseConfig({ logLevel: 'loud' })).fields).toEqual(['logLevel'])
    expect(configError(() => parseConfig({ defaultAck: 'eventually' })).message).toContain('defaultAck')
  })
})

describe('config helpers', () => {
  it('redactUrl hides credentials and keeps the rest', () => {
    expect(redactUrl('mysql://root:hunter2@db:3306/app')).toBe('mysql://***@db:3306/app')
    expect(redactUrl('redis://:pw@cache:6379/0')).toBe('redis://***@cache:6379/0')
    expect(redactUrl('sqlite:./data/sync.db')).toBe('sqlite:./data/sync.db')
    expect(redactUrl('redis://cache:6379')).toBe('redis://cache:6379')
  })

  it('secret fields are the connection URLs and the tokens', () => {
    expect([...SECRET_FIELDS].sort()).toEqual(['apiTokens', 'redisUrl', 'sqlUrl'])
  })

  it('live fields are all real config fields', () => {
    for (const field of LIVE_FIELDS) expect(field in ENV_VARS).toBe(true)
    expect(LIVE_FIELDS).toContain('l1MaxBytes')
    expect(LIVE_FIELDS).not.toContain('sqlUrl')
  })
})
