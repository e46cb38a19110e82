import { Writable } from 'node:stream'
import { ConfigError } from '@sync-engine/core'
import { createLogger, isLoopbackHost, sqlitePathFor } from '@sync-engine/node'
import { describe, expect, it } from 'vitest'

describe('isLoopbackHost', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    'localhost',
    'LOCALHOST',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
  ])('%s is loopback', (host) => expect(isLoopbackHost(host)).toBe(true))

  it.each([
    '0.0.0.0',
    '::',
    '10.0.0.1',
    '128.0.0.1',
    '::2',
    '::ffff:10.0.0.1',
    'example.com',
    '127.example.com',
    'localhost.evil.com',
    '',
  ])('%s is not loopback', (host) => expect(isLoopbackHost(host)).toBe(false))
})

describe('sqlitePathFor', () => {
  it('defaults to <dataDir>/sync.db', () => {
    expect(sqlitePathFor({ dataDir: '/var/lib/sync', sqlUrl: undefined })).toBe('/var/lib/sync/sync.db')
  })

  it.each([
    ['sqlite:./data/x.db', './data/x.db'],
    ['sqlite:/abs/x.db', '/abs/x.db'],
    ['sqlite://rel/x.db', 'rel/x.db'],
    ['sqlite:///abs/x.db', '/abs/x.db'],
    ['SQLITE:x.db', 'x.db'],
    ['sqlite::memory:', ':memory:'],
  ])('%s → %s', (sqlUrl, path) => {
    expect(sqlitePathFor({ dataDir: '/ignored', sqlUrl })).toBe(path)
  })

  it.each(['mysql://u:p@h/db', 'postgres://h/db', 'no-scheme.db', 'sqlite:', 'sqlite://'])(
    '%s is a ConfigError naming sqlUrl',
    (sqlUrl) => {
      const error = (() => {
        try {
          sqlitePathFor({ dataDir: '/d', sqlUrl })
        } catch (e) {
          return e
        }
      })()
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).fields).toEqual(['sqlUrl'])
      expect((error as Error).message).toMatch(/^sqlUrl \(SYNC_SQL_URL\)/)
      expect((error as Error).message).not.toContain('u:p@')
    },
  )
})

describe('createLogger', () => {
  function capture() {
    const lines: string[] = []
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk))
        done()
      },
    })
    return { stream, lines }
  }

  it('censors the Authorization header, tokens, passwords and URL credentials at any depth', () => {
    const { stream, lines } = capture()
    const logger = createLogger({ logLevel: 'info' }, stream)
    logger.info(
      {
        req: { method: 'GET', headers: { authorization: 'Bearer header-secret-1', host: 'h' } },
        apiTokens: ['token-secret-2'],
        nested: {
          deeper: { password: 'password-secret-3', refreshToken: 'token-secret-4', keep: 'visible' },
        },
        sqlUrl: 'mysql://root:url-secret-5@db:3306/app',
        list: [{ clientSecret: 'secret-6' }],
      },
      'hello',
    )
    expect(lines).toHaveLength(1)
    const line = lines[0]!
    for (const secret of [
      'header-secret-1',
      'token-secret-2',
      'password-secret-3',
      'token-secret-4',
      'url-secret-5',
      'secret-6',
    ]) {
      expect(line).not.toContain(secret)
    }
    const parsed = JSON.parse(line)
    expect(parsed.msg).toBe('hello')
    expect(parsed.req.headers).toEqual({ authorization: '[redacted]', host: 'h' })
    expect(parsed.nested.deeper.keep).toBe('visible')
    expect(parsed.sqlUrl).toBe('mysql://***@db:3306/app')
  })

  it('logs at the configured level', () => {
    const { stream, lines } = capture()
    const logger = createLogger({ logLevel: 'warn' }, stream)
    logger.info({}, 'dropped')
    logger.warn({}, 'kept')
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['kept'])
  })

  it('keeps error messages (errors are not flattened by the censoring)', () => {
    const { stream, lines } = capture()
    createLogger({ logLevel: 'info' }, stream).error({ err: new Error('disk full') }, 'flush failed')
    expect(JSON.parse(lines[0]!).err.message).toBe('disk full')
  })
})

describe('createLogger on a standard stream', () => {
  it('buffers lines and still writes every one of them out when the process exits', async () => {
    const { spawnSync } = await import('node:child_process')
    const script = [
      "import { createLogger } from '@sync-engine/node'",
      "const logger = createLogger({ logLevel: 'info' }, 'stderr')",
      "for (let i = 0; i < 3; i++) logger.info({ i }, 'line')",
      'process.exit(0)',
    ].join('\n')
    const run = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
      },
    )
    expect(run.status).toBe(0)
    const lines = run.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { i: number; msg: string })
    expect(lines.map((line) => [line.i, line.msg])).toEqual([
      [0, 'line'],
      [1, 'line'],
      [2, 'line'],
    ])
  })
})

describe('scrubSecrets', () => {
  it('hands a flat object with nothing to scrub back as it is (no copy per request line)', async () => {
    const { scrubSecrets } = await import('@sync-engine/node')
    const line = { method: 'GET', path: '/v1/items/a', status: 200, durationMs: 1 }
    expect(scrubSecrets(line)).toBe(line)
    expect(scrubSecrets({ path: 'redis://u:pw@h:1' })).toEqual({ path: 'redis://***@h:1' })
    expect(scrubSecrets({ token: 'abc' })).toEqual({ token: '[redacted]' })
  })
})
