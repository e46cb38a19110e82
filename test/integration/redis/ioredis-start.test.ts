import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  BackendConfigError,
  BackendError,
  type L2Store,
  RedisStore,
  SyncEngine,
  silentLogger,
} from '@sync-engine/core/internal'
import { type RunningServer, startServer } from '@sync-engine/node'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'
import { freePort, hasRedisServer, OwnRedisServer, until } from './own-redis-server.ts'
import { redisReachable } from './redis-reachable.ts'

/**
 * L2 at an engine's start, on the transport the Node server uses (`waitForConnect: false`): an
 * unreachable Redis degrades the engine (it connects L2 later), a refused password fails the
 * start with a `BackendConfigError` that never quotes the password.
 */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const MAIN = join(ROOT, 'packages/node/src/main.ts')
const TRANSPORT = { commandTimeoutMs: 500, connectTimeoutMs: 500, maxReconnectDelayMs: 100 }
const PASSWORD = `right-${process.pid}-Pw`
const WRONG_PASSWORD = `wrong-${process.pid}-Pw`

const available = hasRedisServer()
if (!available) {
  const message = 'redis-server is not installed: the password tests need their own server'
  if (process.env.CI === 'true') throw new Error(message)
  console.warn(`\n⚠ SKIPPED ioredis start tests with a password: ${message}\n`)
}

const dir = makeTempDir('ioredis-start')
afterAll(() => dir.remove())
let runs = 0
const engines: SyncEngine[] = []
const servers: RunningServer[] = []
afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((server) => server.close()))
  await Promise.allSettled(engines.splice(0).map((engine) => engine.shutdown()))
})

async function l2At(url: string): Promise<L2Store> {
  const transport = await IoredisTransport.create({ url, ...TRANSPORT, waitForConnect: false })
  return new RedisStore(transport, { prefix: `ioredis-start-${process.pid}:` })
}

/** An engine on a SQLite L3 of its own and L2 at `url`, not started. */
async function engineWithL2At(url: string): Promise<SyncEngine> {
  const engine = new SyncEngine({
    l3: createSqliteStore({ path: join(dir.path, `l3-${++runs}.db`) }),
    l2: await l2At(url),
  })
  engines.push(engine)
  return engine
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

function everythingSaid(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause.message : String(error.cause ?? '')
  return `${error.message}\n${cause}\n${String(error)}`
}

describe('ioredis at start: an unreachable Redis', () => {
  it('returns the transport at once; its calls fail with a transient BackendError', async () => {
    const port = await freePort()
    const started = Date.now()
    const transport = await IoredisTransport.create({
      url: `redis://127.0.0.1:${port}`,
      ...TRANSPORT,
      waitForConnect: false,
    })
    try {
      expect(Date.now() - started).toBeLessThan(500)
      const error = await rejection(transport.send(['PING']))
      expect(error).toBeInstanceOf(BackendError)
      expect(error).not.toBeInstanceOf(BackendConfigError)
    } finally {
      await transport.close()
    }
  })

  it('the eager create still fails when Redis is unreachable (openRedisStore relies on it)', async () => {
    const port = await freePort()
    const error = await rejection(IoredisTransport.create({ url: `redis://127.0.0.1:${port}`, ...TRANSPORT }))
    expect(error).toBeInstanceOf(BackendError)
    expect(error).not.toBeInstanceOf(BackendConfigError)
  })

  it('starts the engine degraded (l2), serving from L3', async () => {
    const engine = await engineWithL2At(`redis://127.0.0.1:${await freePort()}`)
    await engine.start()
    const health = await engine.health()
    expect(health.state).toBe('ready')
    expect(health.degraded).toContain('l2')
  })

  it.skipIf(!available)('connects L2 once Redis comes up', async () => {
    const server = new OwnRedisServer(await freePort())
    const engine = await engineWithL2At(server.url)
    await engine.start()
    expect((await engine.health()).degraded).toContain('l2')
    await server.start()
    try {
      // Through the engine's maintenance (its reconnects go through the L2 breaker).
      expect(await until(async () => !(await engine.health()).degraded.includes('l2'), 400)).toBe(true)
    } finally {
      await engine.shutdown()
      await server.kill()
    }
  })

  it('does not stop the Node server from starting: /ready answers 200, degraded with l2', async () => {
    const port = await freePort()
    const server = await startServer({
      config: { dataDir: join(dir.path, `server-${++runs}`), port: 0, redisUrl: `redis://127.0.0.1:${port}` },
      logger: silentLogger,
    })
    servers.push(server)
    const res = await fetch(`${server.url}/ready`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { status: string; degraded: string[] }
    expect(body.status).toBe('degraded')
    expect(body.degraded).toContain('l2')
  })
})

/** A throwaway redis-server with `--requirepass`, killed by the PID we spawned. */
class PasswordRedisServer {
  #child: ChildProcess | undefined
  constructor(readonly port: number) {}

  url(password?: string, user = ''): string {
    const auth = password === undefined ? '' : `${user}:${encodeURIComponent(password)}@`
    return `redis://${auth}127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    this.#child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--requirepass',
        PASSWORD,
      ],
      { stdio: 'ignore' },
    )
    if (!(await until(() => redisReachable(this.url())))) {
      await this.kill()
      throw new Error(`redis-server did not come up on port ${this.port}`)
    }
  }

  async kill(): Promise<void> {
    const child = this.#child
    this.#child = undefined
    if (!child || child.exitCode !== null || child.pid === undefined) return
    const exited = once(child, 'exit')
    process.kill(child.pid, 'SIGKILL')
    await exited
  }
}

describe.skipIf(!available)('ioredis at start: a Redis with requirepass (own redis-server)', () => {
  let redis: PasswordRedisServer

  beforeAll(async () => {
    redis = new PasswordRedisServer(await freePort())
    await redis.start()
  })
  afterAll(async () => {
    await redis?.kill()
  })

  it('a wrong password: the start rejects with a BackendConfigError that does not quote it', async () => {
    const engine = await engineWithL2At(redis.url(WRONG_PASSWORD))
    const error = await rejection(engine.start())
    expect(error).toBeInstanceOf(BackendConfigError)
    expect(error).toMatchObject({ code: 'BACKEND_CONFIG', tier: 'l2', retryable: false })
    expect(error.message).toMatch(/WRONGPASS|invalid password/)
    expect(everythingSaid(error)).not.toContain(WRONG_PASSWORD)
    expect(everythingSaid(error)).not.toContain(PASSWORD)
    expect(engine.state).toBe('failed')
  })

  it('a wrong password with a user name (ACL AUTH) is refused the same way', async () => {
    const engine = await engineWithL2At(redis.url(WRONG_PASSWORD, 'default'))
    const error = await rejection(engine.start())
    expect(error).toBeInstanceOf(BackendConfigError)
    expect(everythingSaid(error)).not.toContain(WRONG_PASSWORD)
  })

  it('no password at all (NOAUTH) fails the start too', async () => {
    const engine = await engineWithL2At(redis.url())
    const error = await rejection(engine.start())
    expect(error).toBeInstanceOf(BackendConfigError)
    expect(error.message).toMatch(/NOAUTH/)
  })

  it('the eager create fails with a BackendConfigError as well', async () => {
    const error = await rejection(IoredisTransport.create({ url: redis.url(WRONG_PASSWORD), ...TRANSPORT }))
    expect(error).toBeInstanceOf(BackendConfigError)
    expect(everythingSaid(error)).not.toContain(WRONG_PASSWORD)
  })

  it('the right password works', async () => {
    const engine = await engineWithL2At(redis.url(PASSWORD))
    await engine.start()
    expect((await engine.health()).degraded).not.toContain('l2')
  })

  it('the Node server refuses to start on a wrong password, naming the refusal, not the password', async () => {
    const error = await rejection(
      startServer({
        config: { dataDir: join(dir.path, `server-${++runs}`), port: 0, redisUrl: redis.url(WRONG_PASSWORD) },
        logger: silentLogger,
      }),
    )
    expect(error).toBeInstanceOf(BackendConfigError)
    expect(error.message).toMatch(/refused the credentials/)
    expect(everythingSaid(error)).not.toContain(WRONG_PASSWORD)
  })

  it('main.ts exits 1 with the reason on stderr (and without the password)', async () => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        SYNC_DATA_DIR: join(dir.path, `main-${++runs}`),
        SYNC_PORT: '0',
        SYNC_LOG_LEVEL: 'silent',
        SYNC_REDIS_URL: redis.url(WRONG_PASSWORD),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += String(chunk)
    })
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk)
    })
    const [code] = await once(child, 'exit')
    expect(code).toBe(1)
    expect(stderr).toMatch(/sync-engine: l2: .*refused the credentials/)
    expect(stderr + stdout).not.toContain(WRONG_PASSWORD)
    expect(stdout).not.toContain('listening')
  })
})
