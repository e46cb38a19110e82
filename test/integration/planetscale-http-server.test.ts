import { randomBytes } from 'node:crypto'
import { type Connection, connect, DatabaseError } from '@planetscale/database'
import { createConnection, type Connection as MysqlConnection, type RowDataPacket } from 'mysql2/promise'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type PlanetScaleHttpServer, startPlanetScaleHttpServer } from '../support/planetscale-http-server.ts'
import { describeWithMysql, mysqlUrl } from './support/services.ts'

/**
 * The loopback PlanetScale HTTP server, checked with the real `@planetscale/database` client against
 * the real MariaDB. Everything lives in a database of this file's own, dropped afterwards; a direct
 * mysql2 connection reads it back with fully qualified names, independently of the server.
 */

const DB = `it_ps_${randomBytes(5).toString('hex')}`
const USER = `u-${randomBytes(4).toString('hex')}`
const PASS = `pscale_pw_${randomBytes(8).toString('hex')}`
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i)
const ABOVE_2_53 = '9007199254740993' // 2^53 + 1: a JS number would round it to ...992
const TRICKY = `O'Brien \\ "q" \\' \n\t\r \0 ünï 🚀 ''`

describeWithMysql('PlanetScale HTTP loopback server over the local MariaDB', () => {
  let server: PlanetScaleHttpServer
  let direct: MysqlConnection
  let db: Connection
  const table = `\`${DB}\`.items`

  beforeAll(async () => {
    direct = await createConnection({ uri: mysqlUrl(), supportBigNumbers: true, bigNumberStrings: true })
    await direct.query(`CREATE DATABASE \`${DB}\``)
    server = await startPlanetScaleHttpServer({
      mysqlUrl: mysqlUrl(),
      database: DB,
      username: USER,
      password: PASS,
    })
    db = connect({ url: server.url })
  })

  afterAll(async () => {
    await server?.close()
    await direct?.query(`DROP DATABASE IF EXISTS \`${DB}\``)
    await direct?.end()
  })

  const count = async (where: string, args: unknown[]): Promise<number> => {
    const [rows] = await direct.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`,
      args,
    )
    return Number(rows[0]?.n)
  }

  it('runs DDL in its own database', async () => {
    const created = await db.execute(
      `CREATE TABLE items (
        id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(200) NOT NULL UNIQUE, note TEXT NULL,
        data VARBINARY(300), blb BLOB, big BIGINT UNSIGNED, amount DECIMAL(20,4), seen DATETIME(3),
        doc JSON, small INT, ratio DOUBLE)`,
    )
    expect(created.rowsAffected).toBe(0)
    expect(created.rows).toEqual([])
    const [rows] = await direct.query<RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_name = ?',
      [DB, 'items'],
    )
    expect(Number(rows[0]?.n)).toBe(1)
  })

  it('inserts client-formatted parameters byte for byte and reports rowsAffected/insertId', async () => {
    const first = await db.execute(
      'INSERT INTO items (id, name, note, data, blb, big, amount, seen, doc, small, ratio) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        ABOVE_2_53,
        TRICKY,
        null,
        ALL_BYTES,
        ALL_BYTES,
        '18446744073709551615',
        '12345.6789',
        new Date('2026-01-02T03:04:05.678Z'),
        JSON.stringify({ a: [1, 'x'] }),
        -42,
        0.5,
      ],
    )
    expect(first.rowsAffected).toBe(1)
    expect(first.insertId).toBe(ABOVE_2_53)
    const second = await db.execute('INSERT INTO items (name) VALUES (:name)', { name: 'second' })
    expect(second.insertId).toBe('9007199254740994')

    // What MariaDB holds, read without the server: the client's escaping and the hex literal landed.
    const [rows] = await direct.query<RowDataPacket[]>(
      `SELECT name, HEX(data) AS hex, note FROM ${table} WHERE id = ?`,
      [ABOVE_2_53],
    )
    expect(rows[0]?.name).toBe(TRICKY)
    expect(rows[0]?.hex).toBe(Buffer.from(ALL_BYTES).toString('hex').toUpperCase())
    expect(rows[0]?.note).toBeNull()

    const updated = await db.execute('UPDATE items SET small = 7 WHERE small IS NULL OR small = 7')
    expect(updated.rowsAffected).toBe(1)
    expect(updated.insertId).toBe('0')
  })

  it('selects exact values with the Vitess types the client casts on', async () => {
    const result = await db.execute('SELECT * FROM items WHERE id = ?', [ABOVE_2_53])
    expect(result.types).toEqual({
      id: 'INT64',
      name: 'VARCHAR',
      note: 'TEXT',
      data: 'VARBINARY',
      blb: 'BLOB',
      big: 'UINT64',
      amount: 'DECIMAL',
      seen: 'DATETIME',
      doc: 'JSON',
      small: 'INT32',
      ratio: 'FLOAT64',
    })
    expect(result.rows).toHaveLength(1)
    const row = result.rows[0] as Record<string, unknown>
    // BIGINTs stay strings, VARBINARY/BLOB (charset 63) become Uint8Array, text is decoded UTF-8.
    expect(row).toEqual({
      id: ABOVE_2_53,
      name: TRICKY,
      note: null,
      data: ALL_BYTES,
      blb: ALL_BYTES,
      big: '18446744073709551615',
      amount: '12345.6789',
      seen: '2026-01-02 03:04:05.678',
      doc: { a: [1, 'x'] },
      small: -42,
      ratio: 0.5,
    })
    expect(row.data).toBeInstanceOf(Uint8Array)

    // Array rows, several rows, an empty string beside a NULL, and a row of NULLs only.
    const arrays = await db.execute(
      "SELECT name, '' AS empty, NULL AS nothing FROM items ORDER BY id",
      null,
      { as: 'array' },
    )
    expect(arrays.rows).toEqual([
      [TRICKY, '', null],
      ['second', '', null],
    ])
    const nulls = await db.execute('SELECT NULL AS a, NULL AS b')
    expect(nulls.rows).toEqual([{ a: null, b: null }])
  })

  it('commits a transaction on one pinned connection', async () => {
    const seen = await db.transaction(async (tx) => {
      await tx.execute('INSERT INTO items (name) VALUES (?)', ['tx-a'])
      await tx.execute('INSERT INTO items (name) VALUES (?)', ['tx-b'])
      // Real isolation: the transaction sees its rows, nobody else does yet.
      expect(await count("name IN ('tx-a', 'tx-b')", [])).toBe(0)
      const inside = await tx.execute("SELECT COUNT(*) AS n FROM items WHERE name IN ('tx-a', 'tx-b')")
      return inside.rows[0]
    })
    expect(seen).toEqual({ n: '2' })
    expect(await count("name IN ('tx-a', 'tx-b')", [])).toBe(2)
  })

  it('rolls back a transaction that throws', async () => {
    const boom = new Error('boom')
    await expect(
      db.transaction(async (tx) => {
        await tx.execute('INSERT INTO items (name) VALUES (?)', ['rb-a'])
        await tx.execute('UPDATE items SET small = 99 WHERE name = ?', ['second'])
        throw boom
      }),
    ).rejects.toBe(boom)
    expect(await count("name = 'rb-a' OR small = 99", [])).toBe(0)
  })

  it('keeps interleaved sessions apart, each in its own transaction', async () => {
    // Two Connections, two sessions, two pinned connections: each sees only its own uncommitted row.
    const a = connect({ url: server.url })
    const b = connect({ url: server.url })
    await a.execute('BEGIN')
    await b.execute('BEGIN')
    await a.execute('INSERT INTO items (name) VALUES (?)', ['c1'])
    await b.execute('INSERT INTO items (name) VALUES (?)', ['c2'])
    expect((await a.execute("SELECT name FROM items WHERE name LIKE 'c_'")).rows).toEqual([{ name: 'c1' }])
    expect((await b.execute("SELECT name FROM items WHERE name LIKE 'c_'")).rows).toEqual([{ name: 'c2' }])
    await a.execute('COMMIT')
    await b.execute('ROLLBACK')
    const [rows] = await direct.query<RowDataPacket[]>(`SELECT name FROM ${table} WHERE name LIKE 'c_'`)
    expect(rows.map((row) => row.name)).toEqual(['c1'])
  })

  it('surfaces SQL errors as DatabaseError and stays usable', async () => {
    const error = await db.execute('INSERT INTO items (name) VALUES (?)', ['second']).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DatabaseError)
    const dbError = error as DatabaseError
    expect(dbError.body.code).toBe('ALREADY_EXISTS')
    expect(dbError.message).toMatch(/Duplicate entry 'second'.*\(errno 1062\) \(sqlstate 23000\)/)
    await expect(db.execute('SELEC nonsense')).rejects.toMatchObject({ body: { code: 'INVALID_ARGUMENT' } })
    expect((await db.execute('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    // An error inside a transaction rolls the whole of it back.
    await expect(
      db.transaction(async (tx) => {
        await tx.execute('INSERT INTO items (name) VALUES (?)', ['half'])
        await tx.execute('INSERT INTO items (name) VALUES (?)', ['second'])
      }),
    ).rejects.toBeInstanceOf(DatabaseError)
    expect(await count("name = 'half'", [])).toBe(0)
  })

  it('refuses wrong credentials with 401', async () => {
    const wrong = connect({ url: server.url.replace(PASS, 'nope') })
    const error = await wrong.execute('SELECT 1').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DatabaseError)
    expect((error as DatabaseError).status).toBe(401)
    const bare = await fetch(`http://${server.host}/psdb.v1alpha1.Database/Execute`, {
      method: 'POST',
      body: JSON.stringify({ query: 'SELECT 1', session: null }),
    })
    expect(bare.status).toBe(401)
  })

  it('works through the host option with a custom fetch, and CreateSession', async () => {
    const urls: string[] = []
    const viaHost = connect({
      host: server.host,
      username: USER,
      password: PASS,
      fetch: (url, init) => {
        urls.push(url)
        return fetch(url.replace(/^https:/, 'http:'), init)
      },
    })
    await viaHost.refresh()
    expect((await viaHost.execute('SELECT ? AS v', [ABOVE_2_53])).rows).toEqual([{ v: ABOVE_2_53 }])
    expect(urls.map((u) => new URL(u).pathname)).toEqual([
      '/psdb.v1alpha1.Database/CreateSession',
      '/psdb.v1alpha1.Database/Execute',
    ])
  })

  it('refuses to run a transaction the server no longer holds in autocommit', async () => {
    const forged = connect({ url: server.url })
    await forged.execute('BEGIN')
    const open = (forged as unknown as { session: { signedSession: string } }).session
    const res = await fetch(`http://${server.host}/psdb.v1alpha1.Database/Execute`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}` },
      body: JSON.stringify({
        query: "INSERT INTO items (name) VALUES ('ghost')",
        session: { ...open, signedSession: 'x' },
      }),
    })
    expect(((await res.json()) as { error?: { code: string } }).error?.code).toBe('ABORTED')
    await forged.execute('ROLLBACK')
    expect(await count("name = 'ghost'", [])).toBe(0)
  })
})
