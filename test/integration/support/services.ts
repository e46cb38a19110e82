import { randomBytes } from 'node:crypto'
import { connect as connectTcp } from 'node:net'
import { redactUrl } from '@sync-engine/core'
import { createConnection } from 'mysql2/promise'
import { beforeAll, describe } from 'vitest'

/**
 * The real services the integration tests run against, and the rule when one is missing: on CI
 * (`CI=true`) the suite fails, because a green run that tested nothing would be a lie; locally it
 * is skipped with a loud banner naming the env var to set.
 */

const PROBE_TIMEOUT_MS = 2_000

export function mysqlUrl(): string {
  return process.env.SYNC_TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test'
}

export function redisUrl(): string {
  return process.env.SYNC_TEST_REDIS_URL || 'redis://127.0.0.1:6379'
}

interface Service {
  readonly label: string
  readonly envVar: string
  readonly url: () => string
  readonly probe: (url: string) => Promise<void>
}

const MYSQL: Service = {
  label: 'MariaDB/MySQL',
  envVar: 'SYNC_TEST_MYSQL_URL',
  url: mysqlUrl,
  probe: probeMysql,
}
const REDIS: Service = { label: 'Redis', envVar: 'SYNC_TEST_REDIS_URL', url: redisUrl, probe: probeRedis }

/** `describe` that runs only where MariaDB/MySQL answers at `mysqlUrl()`. */
export function describeWithMysql(name: string, fn: () => void): void {
  describeWithService(MYSQL, name, fn)
}

/** `describe` that runs only where Redis answers at `redisUrl()`. */
export function describeWithRedis(name: string, fn: () => void): void {
  describeWithService(REDIS, name, fn)
}

/** One probe per service per test file, however many suites ask. */
const probes = new Map<Service, Promise<Error | undefined>>()

function reachable(service: Service): Promise<Error | undefined> {
  let probe = probes.get(service)
  if (probe === undefined) {
    probe = service.probe(service.url()).then(
      () => undefined,
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    )
    probes.set(service, probe)
  }
  return probe
}

function describeWithService(service: Service, name: string, fn: () => void): void {
  describe(name, async () => {
    const failure = await reachable(service)
    if (failure === undefined) return fn()
    const message =
      `${service.label} is not reachable at ${redactUrl(service.url())} (${failure.message}). ` +
      `Start it, or point ${service.envVar} at one.`
    if (process.env.CI === 'true') {
      beforeAll(() => {
        throw new Error(`${message} On CI the integration tests must not be skipped.`)
      })
      return fn()
    }
    const rule = '!'.repeat(100)
    console.warn(`\n${rule}\n!! SKIPPED "${name}": ${message}\n${rule}\n`)
    describe.skip(name, fn)
  })
}

async function probeMysql(url: string): Promise<void> {
  const connection = await createConnection({ uri: url, connectTimeout: PROBE_TIMEOUT_MS })
  try {
    await connection.query({ sql: 'SELECT 1', timeout: PROBE_TIMEOUT_MS })
  } finally {
    connection.destroy()
  }
}

/** A TCP connect and a PING: any reply means a server is there (even one that wants AUTH). */
function probeRedis(url: string): Promise<void> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    // URL keeps IPv6 brackets in hostname ([::1]); the socket wants the bare address.
    const host = hostname.replace(/^\[|\]$/g, '') || '127.0.0.1'
    const socket = connectTcp({ host, port: Number(port || 6379) })
    const fail = (error: Error) => {
      socket.destroy()
      reject(error)
    }
    socket.setTimeout(PROBE_TIMEOUT_MS, () => fail(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)))
    socket.once('error', fail)
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', () => {
      socket.destroy()
      resolve()
    })
  })
}

/**
 * Table names for one test file: `it_<random>_<n>`, unique across concurrent runs. `dropAll` drops
 * the tables this file named and those named after them (search side tables, partition tables and
 * the partition registry: `it_<random>_<n>_…`), never anything else.
 */
export function mysqlTables(): { next(): string; dropAll(): Promise<void> } {
  const token = randomBytes(5).toString('hex')
  const names: string[] = []
  return {
    next() {
      const name = `it_${token}_${names.length + 1}`
      names.push(name)
      return name
    },
    async dropAll() {
      if (names.length === 0) return
      const connection = await createConnection({ uri: mysqlUrl(), connectTimeout: PROBE_TIMEOUT_MS })
      try {
        const [rows] = await connection.query('SHOW TABLES LIKE ?', [`it\\_${token}\\_%`])
        const derived = (rows as Record<string, string>[]).map((row) => Object.values(row)[0]!)
        for (const name of new Set([...names, ...derived])) {
          await connection.query(`DROP TABLE IF EXISTS \`${name}\``)
        }
      } finally {
        await connection.end()
      }
    },
  }
}
