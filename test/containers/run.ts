/**
 * `npm run test:containers`: the integration tests against throwaway Redis 8 and MySQL 8.4
 * containers, for machines with a Docker engine (or Podman / any engine testcontainers finds).
 *
 * It starts `redis:8` and `mysql:8.4` with testcontainers (random host ports, the same health checks
 * as docker-compose.yml), runs `vitest run test/integration` as a child with SYNC_TEST_REDIS_URL and
 * SYNC_TEST_MYSQL_URL pointing at them, exits with vitest's exit code, and removes the containers at
 * the end, on Ctrl-C too (and if this process is killed outright, testcontainers' reaper removes them).
 * Arguments after `--` go to vitest: `npm run test:containers -- -t conformance`.
 *
 * Why it exists: Redis 8 has RedisJSON and RediSearch built in, so this is the run in which the
 * ioredis transport detects the `json` capability and the L2 conformance suite
 * (test/integration/conformance/l2-conformance.ts) covers the RedisJSON document path end to end.
 * The local redis-server 7 that CI uses has no modules and covers only the plain-structure path.
 * MySQL 8.4 (rather than MariaDB) also checks that the SQL runs on both.
 *
 * The tests that start servers of their own (the Redis outage tests) still need a local
 * `redis-server` binary; without one they skip as they do under `npm test`.
 *
 * Without a container engine it fails at once with one line and exit code 1; use `npm test` against
 * local services (or `docker compose up -d --wait`) instead.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { constants } from 'node:os'
import { dirname, join } from 'node:path'
import { GenericContainer, getContainerRuntimeClient, type StartedTestContainer, Wait } from 'testcontainers'

const NO_ENGINE =
  'test:containers needs a Docker engine (testcontainers found none); run npm test against local services instead'

const STARTUP_TIMEOUT_MS = 180_000

const started: StartedTestContainer[] = []
let child: ChildProcess | undefined
let interrupted = false
let stopping: Promise<void> | undefined

function fail(message: string): never {
  console.error(message)
  process.exit(1)
}

function stopContainers(): Promise<void> {
  stopping ??= Promise.allSettled(started.map((container) => container.stop())).then(() => undefined)
  return stopping
}

function onSignal(signal: NodeJS.Signals): void {
  // A second Ctrl-C leaves at once; testcontainers' reaper removes whatever is still running.
  if (interrupted) process.exit(130)
  interrupted = true
  if (child === undefined) {
    // Still starting: main() stops the containers as soon as their start settles.
    console.error(`\ntest:containers: ${signal}, stopping once the containers are up (again to leave now)…`)
  } else if (child.exitCode === null && child.signalCode === null) {
    // vitest got the terminal's SIGINT itself; a signal sent to this process alone is passed on.
    child.kill(signal)
  }
}

async function start(container: GenericContainer): Promise<StartedTestContainer> {
  const running = await container.start()
  started.push(running)
  return running
}

async function main(): Promise<void> {
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  try {
    await getContainerRuntimeClient()
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error)
    // testcontainers' own message is "Could not find a working container runtime strategy".
    fail(/container runtime strategy/i.test(detail) ? NO_ENGINE : `${NO_ENGINE} (${detail})`)
  }

  const redis = new GenericContainer('redis:8')
    .withExposedPorts(6379)
    .withHealthCheck({ test: ['CMD', 'redis-cli', 'ping'], interval: 1_000, timeout: 3_000, retries: 60 })
    .withWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(STARTUP_TIMEOUT_MS)

  const mysql = new GenericContainer('mysql:8.4')
    .withEnvironment({ MYSQL_ALLOW_EMPTY_PASSWORD: 'yes', MYSQL_DATABASE: 'test', MYSQL_ROOT_HOST: '%' })
    .withExposedPorts(3306)
    .withTmpFs({ '/var/lib/mysql': 'rw' })
    // Over TCP, so the temporary server the image runs while initialising (no networking) does not pass.
    .withHealthCheck({
      test: ['CMD', 'mysqladmin', 'ping', '-h', '127.0.0.1'],
      interval: 1_000,
      timeout: 3_000,
      retries: 120,
    })
    .withWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(STARTUP_TIMEOUT_MS)

  console.error('test:containers: starting redis:8 and mysql:8.4 (the first run pulls the images)…')
  const [redisStart, mysqlStart] = await Promise.allSettled([start(redis), start(mysql)])
  if (redisStart.status === 'rejected' || mysqlStart.status === 'rejected' || interrupted) {
    await stopContainers()
    const failure = [redisStart, mysqlStart].find((result) => result.status === 'rejected')
    if (failure === undefined) process.exit(130)
    const reason = failure.reason instanceof Error ? failure.reason.message : String(failure.reason)
    fail(`test:containers could not start its containers: ${reason}`)
  }
  const redisUrl = `redis://${hostOf(redisStart.value)}:${redisStart.value.getMappedPort(6379)}`
  const mysqlUrl = `mysql://root@${hostOf(mysqlStart.value)}:${mysqlStart.value.getMappedPort(3306)}/test`
  console.error(`test:containers: SYNC_TEST_REDIS_URL=${redisUrl} SYNC_TEST_MYSQL_URL=${mysqlUrl}`)

  // vitest's own entry, run by this node directly: no npx or shell in between.
  const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs')
  const code = await new Promise<number>((resolve) => {
    child = spawn(process.execPath, [vitest, 'run', 'test/integration', ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, SYNC_TEST_REDIS_URL: redisUrl, SYNC_TEST_MYSQL_URL: mysqlUrl },
    })
    child.once('error', (error) => {
      console.error(`test:containers could not run vitest: ${error.message}`)
      resolve(1)
    })
    child.once('exit', (exitCode, signal) =>
      resolve(exitCode ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0))),
    )
  })

  await stopContainers()
  process.exit(interrupted && code === 0 ? 130 : code)
}

/** The host as a URL wants it: an IPv6 literal goes in brackets. */
function hostOf(container: StartedTestContainer): string {
  const host = container.getHost()
  return host.includes(':') ? `[${host}]` : host
}

main().catch(async (error: unknown) => {
  await stopContainers()
  fail(`test:containers failed: ${error instanceof Error ? error.message : String(error)}`)
})
