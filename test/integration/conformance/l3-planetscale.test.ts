import { randomBytes } from 'node:crypto'
import { BackendConfigError, BackendError, InvalidArgumentError } from '@sync-engine/core'
import { createPlanetScaleStore, PlanetScaleTransport } from '@sync-engine/sql-planetscale'
import { createConnection } from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type PlanetScaleHttpServer,
  startPlanetScaleHttpServer,
} from '../../support/planetscale-http-server.ts'
import { describeWithMysql, mysqlUrl } from '../support/services.ts'
import { runL3Conformance } from './l3-conformance.ts'

/**
 * The L3 conformance suite on `@planetscale/database`, through the loopback PlanetScale HTTP server
 * over the real MariaDB. Everything lives in a database of this file's own (random name), dropped
 * afterwards with all its tables; each test gets a table of its own in it.
 */

const DB = `it_ps_l3_${randomBytes(5).toString('hex')}`
const USER = `u-${randomBytes(4).toString('hex')}`
const PASS = `pscale_pw_${randomBytes(8).toString('hex')}`
/** Everything the client must escape: quotes, backslashes, NUL, control characters; and 4-byte UTF-8. */
const TRICKY = `O'Brien \\ "q" \\' \n\t\r \0 \x1a ünï 🚀 ''`

async function admin<T>(work: (sql: (text: string) => Promise<unknown>) => Promise<T>): Promise<T> {
  const connection = await createConnection({ uri: mysqlUrl() })
  try {
    return await work((text) => connection.query(text))
  } finally {
    await connection.end()
  }
}

describeWithMysql('@planetscale/database on the loopback PlanetScale server', () => {
  let server: PlanetScaleHttpServer | undefined
  let tables = 0

  beforeAll(async () => {
    await admin((sql) => sql(`CREATE DATABASE \`${DB}\``))
    server = await startPlanetScaleHttpServer({
      mysqlUrl: mysqlUrl(),
      database: DB,
      username: USER,
      password: PASS,
    })
  })

  afterAll(async () => {
    await server?.close()
    await admin((sql) => sql(`DROP DATABASE IF EXISTS \`${DB}\``))
  })

  runL3Conformance('L3 conformance: planetscale', async () => {
    tables++
    const store = createPlanetScaleStore({ url: server!.url, table: `t_${tables}` })
    await store.init()
    return { store, cleanup: () => store.close() }
  })

  // What the conformance suite cannot see: the values at the transport, and the failures' types.
  describe('the transport itself', () => {
    const transport = () => new PlanetScaleTransport({ url: server!.url })

    it('returns integers exactly: numbers up to 2^53 - 1, bigints beyond; bytes as Uint8Array', async () => {
      const { rows } = await transport().run({
        sql: 'SELECT CAST(? AS SIGNED) AS safe, CAST(? AS SIGNED) AS big, ? AS bytes, ? AS text, ? AS nothing',
        params: [
          Number.MAX_SAFE_INTEGER,
          2n ** 53n + 1n,
          new Uint8Array([0, 0xff, 0x27, 0x5c]),
          TRICKY,
          null,
        ],
      })
      expect(rows).toEqual([
        {
          safe: Number.MAX_SAFE_INTEGER,
          big: 2n ** 53n + 1n,
          bytes: new Uint8Array([0, 0xff, 0x27, 0x5c]),
          text: TRICKY,
          nothing: null,
        },
      ])
    })

    it('learns maxStatementBytes as half the packet limit (hex doubles bytes)', async () => {
      const t = transport()
      await t.connect()
      expect(t.maxStatementBytes).toBeGreaterThan(1024 * 1024)
    })

    it('runAtomically commits all or nothing; a duplicate is refused data', async () => {
      const t = transport()
      await t.run({ sql: 'CREATE TABLE atomic_t (id INT PRIMARY KEY)', params: [] })
      const failing = t.runAtomically([
        { sql: 'INSERT INTO atomic_t VALUES (?)', params: [1] },
        { sql: 'INSERT INTO atomic_t VALUES (?)', params: [1] },
      ])
      await expect(failing).rejects.toBeInstanceOf(InvalidArgumentError)
      expect((await t.run({ sql: 'SELECT COUNT(*) AS n FROM atomic_t', params: [] })).rows).toEqual([
        { n: 0 },
      ])
      const results = await t.runAtomically([
        { sql: 'INSERT INTO atomic_t VALUES (?), (?)', params: [1, 2] },
        { sql: 'SELECT id FROM atomic_t ORDER BY id', params: [] },
      ])
      expect(results.map((r) => r.affectedRows)).toEqual([2, 0])
      expect(results[1]?.rows).toEqual([{ id: 1 }, { id: 2 }])
    })

    it('a wrong password is a BackendConfigError that does not repeat the password', async () => {
      const wrong = `${server!.url.replace(PASS, 'pscale_pw_wrong0secret')}`
      const error = await new PlanetScaleTransport({ url: wrong })
        .run({ sql: 'SELECT 1', params: [] })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(BackendConfigError)
      expect(String((error as Error).message)).not.toContain('pscale_pw_wrong0secret')
    })

    it('an unknown database is a BackendConfigError', async () => {
      const elsewhere = await startPlanetScaleHttpServer({
        mysqlUrl: mysqlUrl(),
        database: `${DB}_missing`,
        username: USER,
        password: PASS,
      })
      try {
        const error = await new PlanetScaleTransport({ url: elsewhere.url })
          .run({ sql: 'SELECT 1', params: [] })
          .catch((e: unknown) => e)
        expect(error).toBeInstanceOf(BackendConfigError)
      } finally {
        await elsewhere.close()
      }
    })

    it('a server that never answers fails with a retryable BackendError at the deadline', async () => {
      let aborted = 0
      const hanging = (
        _: string,
        init?: { signal?: { addEventListener(t: 'abort', l: () => void): void } },
      ) =>
        new Promise<never>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => {
            aborted++
            reject(new Error('aborted'))
          })
        })
      const started = Date.now()
      const error = await new PlanetScaleTransport({ url: server!.url, timeoutMs: 200, fetch: hanging })
        .runAtomically([{ sql: 'SELECT 1', params: [] }])
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(BackendError)
      expect(error).not.toBeInstanceOf(BackendConfigError)
      expect((error as BackendError).retryable).toBe(true)
      expect(Date.now() - started).toBeLessThan(1_000)
      expect(aborted).toBeGreaterThanOrEqual(1)
    })

    it('refuses calls after close', async () => {
      const t = transport()
      await t.close()
      await expect(t.run({ sql: 'SELECT 1', params: [] })).rejects.toBeInstanceOf(BackendError)
    })
  })
})
