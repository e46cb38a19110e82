import { randomBytes } from 'node:crypto'
import { BackendConfigError, BackendError, InvalidArgumentError, SyncEngine } from '@sync-engine/core'
import { createMysqlStore, Mysql2Transport } from '@sync-engine/sql-mysql2'
import { SqliteWriteAheadLog } from '@sync-engine/sql-sqlite'
import { type Connection, createConnection } from 'mysql2/promise'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'
import { freePort } from '../redis/own-redis-server.ts'
import { describeWithMysql, mysqlTables, mysqlUrl } from '../support/services.ts'

/**
 * Permanent refusals (wrong password, unknown database, no access to the database) are
 * `BackendConfigError`s: the store's init() fails with one, and so does an engine's start. An
 * unreachable server is transient: the engine starts degraded and connects L3 later.
 */

const tables = mysqlTables()
afterAll(() => tables.dropAll())

const token = randomBytes(4).toString('hex')
/** A user this file creates (and drops), with a password of its own. */
const USER = `se_perm_${token}`
const PASSWORD = `pw-${token}-Right`
const WRONG_PASSWORD = `pw-${token}-Wrong`

const dirs: { remove(): void }[] = []
const opened: { close(): Promise<void> }[] = []
const engines: SyncEngine[] = []
afterEach(async () => {
  await Promise.allSettled(engines.splice(0).map((engine) => engine.shutdown()))
  await Promise.allSettled(opened.splice(0).map((o) => o.close()))
  for (const dir of dirs.splice(0)) dir.remove()
})

/** A URL like `mysqlUrl()` with other credentials, database or port. */
function urlWith(change: (url: URL) => void): string {
  const url = new URL(mysqlUrl())
  change(url)
  return url.toString()
}

function store(url: string) {
  const s = createMysqlStore({ url, table: tables.next(), timeoutMs: 5_000 })
  opened.push(s)
  return s
}

/** An engine on `url` with a write-ahead log in a temp dir (so an unreachable L3 may degrade it). */
function engineOn(url: string): SyncEngine {
  const dir = makeTempDir('mysql-permanent')
  dirs.push(dir)
  const engine = new SyncEngine({
    l3: createMysqlStore({ url, table: tables.next(), timeoutMs: 5_000 }),
    wal: new SqliteWriteAheadLog({ path: `${dir.path}/wal.db`, maxBytes: 1 << 26 }),
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

/** The error, its message and its cause's message: none may carry a password. */
function everythingSaid(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause.message : String(error.cause ?? '')
  return `${error.message}\n${cause}\n${String(error)}`
}

describeWithMysql('mysql2: permanent refusals vs an unreachable server', () => {
  let admin: Connection
  let database: string
  beforeAll(async () => {
    admin = await createConnection(mysqlUrl())
    database = new URL(mysqlUrl()).pathname.slice(1)
    await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [USER, '%', PASSWORD])
    await admin.query(`GRANT ALL ON \`${database}\`.* TO ?@?`, [USER, '%'])
  })
  afterAll(async () => {
    await admin?.query('DROP USER IF EXISTS ?@?', [USER, '%'])
    await admin?.end()
  })

  const userUrl = (password: string, db = database) =>
    urlWith((url) => {
      url.username = USER
      url.password = password
      url.pathname = `/${db}`
    })

  describe("the store's init()", () => {
    it('works with the right password (the control)', async () => {
      await expect(store(userUrl(PASSWORD)).init()).resolves.toBeUndefined()
    })

    it('a wrong password is a BackendConfigError (ER_ACCESS_DENIED_ERROR) that never quotes a password', async () => {
      const error = await rejection(store(userUrl(WRONG_PASSWORD)).init())
      expect(error).toBeInstanceOf(BackendConfigError)
      expect(error).toMatchObject({ code: 'BACKEND_CONFIG', tier: 'l3', retryable: false })
      expect(error.message).toMatch(/Access denied/)
      expect(error.message).toMatch(/errno 1045/)
      const said = everythingSaid(error)
      expect(said).not.toContain(WRONG_PASSWORD)
      expect(said).not.toContain(PASSWORD)
      expect(said).not.toContain(userUrl(WRONG_PASSWORD))
    })

    it("the test URL's own user with a wrong password is refused the same way", async () => {
      const wrong = `nope-${token}`
      const error = await rejection(
        store(
          urlWith((url) => {
            url.password = wrong
          }),
        ).init(),
      )
      expect(error).toBeInstanceOf(BackendConfigError)
      expect(everythingSaid(error)).not.toContain(wrong)
    })

    it('an unknown database is a BackendConfigError (ER_BAD_DB_ERROR)', async () => {
      const error = await rejection(
        store(
          urlWith((url) => {
            url.pathname = `/no_such_db_${token}`
          }),
        ).init(),
      )
      expect(error).toBeInstanceOf(BackendConfigError)
      expect(error.message).toMatch(/errno 1049/)
    })

    it('a database the user may not use is a BackendConfigError (ER_DBACCESS_DENIED_ERROR)', async () => {
      const error = await rejection(store(userUrl(PASSWORD, 'mysql')).init())
      expect(error).toBeInstanceOf(BackendConfigError)
      expect(error.message).toMatch(/errno 1044/)
      expect(everythingSaid(error)).not.toContain(PASSWORD)
    })

    it('an unreachable server (a closed port) is a transient BackendError, not a BackendConfigError', async () => {
      const port = await freePort()
      const error = await rejection(
        store(
          urlWith((url) => {
            url.port = String(port)
          }),
        ).init(),
      )
      expect(error).toBeInstanceOf(BackendError)
      expect(error).not.toBeInstanceOf(BackendConfigError)
      expect(error).toMatchObject({ retryable: true })
    })
  })

  describe('an engine start', () => {
    it('rejects with the BackendConfigError on a wrong password', async () => {
      const error = await rejection(engineOn(userUrl(WRONG_PASSWORD)).start())
      expect(error).toBeInstanceOf(BackendConfigError)
      expect(everythingSaid(error)).not.toContain(WRONG_PASSWORD)
    })

    it('rejects with the BackendConfigError on an unknown database', async () => {
      const error = await rejection(
        engineOn(
          urlWith((url) => {
            url.pathname = `/no_such_db_${token}`
          }),
        ).start(),
      )
      expect(error).toBeInstanceOf(BackendConfigError)
    })

    it('starts degraded (l3) when the server is unreachable', async () => {
      const port = await freePort()
      const engine = engineOn(
        urlWith((url) => {
          url.port = String(port)
        }),
      )
      await engine.start()
      const health = await engine.health()
      expect(health.degraded).toContain('l3')
    })

    it('starts on the right password', async () => {
      const engine = engineOn(userUrl(PASSWORD))
      await engine.start()
      expect((await engine.health()).degraded).not.toContain('l3')
    })
  })

  describe('refused data', () => {
    it('a duplicate key (ER_DUP_ENTRY) is an InvalidArgumentError whose message says "Duplicate"', async () => {
      const table = tables.next()
      const transport = new Mysql2Transport({ url: mysqlUrl() })
      opened.push(transport)
      await transport.run({ sql: `CREATE TABLE \`${table}\` (id INT PRIMARY KEY)`, params: [] })
      await transport.run({ sql: `INSERT INTO \`${table}\` (id) VALUES (?)`, params: [1] })
      const error = await rejection(
        transport.run({ sql: `INSERT INTO \`${table}\` (id) VALUES (?)`, params: [1] }),
      )
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect(error.message).toMatch(/Duplicate/)
      expect(error.message).toMatch(/errno 1062/)
    })
  })
})
