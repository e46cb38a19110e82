import {
  BackendError,
  ConfigError,
  InvalidArgumentError,
  mysqlDialect,
  type PartitionedStore,
  SKIPPED_RESULT,
  type SqlResult,
  SqlStore,
  type SqlTransport,
} from '@sync-engine/core/internal'
import { createMysqlStore, Mysql2Transport } from '@sync-engine/sql-mysql2'
import { type Connection, createConnection } from 'mysql2/promise'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { jsonRecord } from '../conformance/l3-records.ts'
import { describeWithMysql, mysqlTables, mysqlUrl } from '../support/services.ts'

const tables = mysqlTables()
afterAll(() => tables.dropAll())

/** Transports and stores a test opens; closed after it. */
const opened: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()))
})

function transport(options: { timeoutMs?: number; poolSize?: number; url?: string } = {}): Mysql2Transport {
  const t = new Mysql2Transport({ url: mysqlUrl(), ...options })
  opened.push(t)
  return t
}

async function store(): Promise<{ store: PartitionedStore; table: string }> {
  const table = tables.next()
  const s = createMysqlStore({ url: mysqlUrl(), table })
  opened.push(s)
  await s.init()
  return { store: s, table }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

/** A URL like `mysqlUrl()` with other credentials, host or port. */
function urlWith(change: (url: URL) => void): string {
  const url = new URL(mysqlUrl())
  change(url)
  return url.toString()
}

describeWithMysql('mysql2 transport on MariaDB/MySQL', () => {
  let admin: Connection
  beforeAll(async () => {
    admin = await createConnection(mysqlUrl())
  })
  afterAll(async () => {
    await admin?.end()
  })

  describe('schema and session', () => {
    it('creates the table portable MySQL/MariaDB can share: bytewise ids, JSON as checked LONGTEXT, LONGBLOB, InnoDB', async () => {
      const { table } = await store()
      const [rows] = await admin.query(`SHOW CREATE TABLE \`${table}\``)
      const ddl = String((rows as Record<string, unknown>[])[0]!['Create Table'])
      expect(ddl).toMatch(/`id` varbinary\(512\) NOT NULL/)
      expect(ddl).toMatch(/`state` varbinary\(256\) NOT NULL/)
      // utf8mb4_bin comes from the table default, so MariaDB does not repeat it on the column.
      expect(ddl).toMatch(/`payload` longtext[^,]*CHECK \(json_valid\(`payload`\)\)/i)
      expect(ddl).toMatch(/CHARSET=utf8mb4 COLLATE=utf8mb4_bin/)
      expect(ddl).toMatch(/`payload_blob` longblob/)
      expect(ddl).toMatch(/PRIMARY KEY \(`id`\)/)
      expect(ddl).toMatch(/KEY `ix_tombstone_updated` \(`tombstone`,`updated_at`\)/)
      expect(ddl).toMatch(/ENGINE=InnoDB/)
    })

    it('stores the JSON text as written, and it stays queryable with JSON_EXTRACT', async () => {
      const { store: s, table } = await store()
      const text = '{"b":1,  "a":{"n":"é😀"}}'
      await s.write([jsonRecord('doc', 1, text)])
      const [rows] = await admin.query(
        `SELECT payload, JSON_UNQUOTE(JSON_EXTRACT(payload, '$.a.n')) AS n FROM \`${table}\` WHERE id = 'doc'`,
      )
      expect((rows as Record<string, unknown>[])[0]).toMatchObject({ n: 'é😀' })
      // mysql2 parses MariaDB's JSON columns unless told otherwise: compare the text itself.
      const [raw] = await admin.query({
        sql: `SELECT payload FROM \`${table}\` WHERE id = 'doc'`,
        typeCast: false,
      })
      expect(Buffer.from((raw as { payload: Buffer }[])[0]!.payload).toString('utf8')).toBe(text)
    })

    it('runs every connection at READ COMMITTED, in strict mode', async () => {
      const t = transport({ poolSize: 2 })
      // Two at once, so both pooled connections are used.
      const levels = await Promise.all(
        [0, 1].map(() =>
          t.run({
            sql: 'SELECT @@SESSION.tx_isolation AS level, @@SESSION.sql_mode AS mode, SLEEP(0.05) AS s',
            params: [],
          }),
        ),
      )
      for (const { rows } of levels) {
        expect(rows[0]?.level).toBe('READ-COMMITTED')
        expect(String(rows[0]?.mode)).toContain('STRICT_TRANS_TABLES')
      }
    })

    it('learns max_allowed_packet at connect', async () => {
      const t = transport()
      expect(t.maxStatementBytes).toBeUndefined()
      await t.connect()
      const [rows] = await admin.query('SELECT @@max_allowed_packet AS p')
      const packet = Number((rows as { p: number }[])[0]!.p)
      expect(t.maxStatementBytes).toBe(packet - 1024)
    })

    it('returns BIGINTs exactly: numbers when safe, bigints beyond 2^53, on both protocols', async () => {
      const t = transport()
      const text = await t.run({
        sql: 'SELECT CAST(9007199254740993 AS SIGNED) AS big, 42 AS small',
        params: [],
      })
      expect(text.rows[0]).toEqual({ big: 9007199254740993n, small: 42 })
      const binary = await t.run({
        sql: 'SELECT CAST(? AS SIGNED) AS big, CAST(? AS SIGNED) AS small',
        params: ['-9007199254740993', 7],
      })
      expect(binary.rows[0]).toEqual({ big: -9007199254740993n, small: 7 })
    })
  })

  describe('transactions', () => {
    /** A version-guarded upsert of one row of `table` whose payload is `payload` (a CHECK refuses non-JSON). */
    const upsert = (table: string) =>
      `INSERT INTO \`${table}\` (id, version, updated_at, hash, state, content_type, mime, payload, payload_blob, tombstone)
        VALUES (?, ?, 0, '', 'default', 'json', 'application/json', ?, NULL, 0)
        ON DUPLICATE KEY UPDATE version = IF(VALUES(version) > version, VALUES(version), version)`
    const session = {
      sql: 'SELECT @@SESSION.autocommit AS autocommit, @@SESSION.tx_isolation AS level, @@SESSION.sql_mode AS mode, CONNECTION_ID() AS id',
      params: [],
    }

    it('run on connections of their own with autocommit off (no BEGIN), READ COMMITTED and strict; single statements autocommit', async () => {
      const t = transport({ poolSize: 1 })
      // The first call on a new connection may still open its transaction with BEGIN.
      await t.runAtomically([session])
      const [inside] = await t.runAtomically([session])
      expect(Number(inside!.rows[0]?.autocommit)).toBe(0)
      expect(inside!.rows[0]?.level).toBe('READ-COMMITTED')
      expect(String(inside!.rows[0]?.mode)).toContain('STRICT_TRANS_TABLES')
      const single = await t.run(session)
      expect(Number(single.rows[0]?.autocommit)).toBe(1)
      expect(Number(single.rows[0]?.id)).not.toBe(Number(inside!.rows[0]?.id))
    })

    it('a statement the server refuses undoes the statements before it, and the connection holds no transaction after', async () => {
      const { table } = await store()
      const t = transport({ poolSize: 1 })
      for (let attempt = 0; attempt < 2; attempt++) {
        // Twice: on a fresh connection (which may use BEGIN) and on one with autocommit off.
        const error = await rejection(
          t.runAtomically([
            { sql: upsert(table), params: [`kept-${attempt}`, 1, '{}'] },
            { sql: upsert(table), params: [`refused-${attempt}`, 1, 'not json'] },
          ]),
        )
        expect(error).toBeInstanceOf(InvalidArgumentError)
      }
      const [rows] = await admin.query(`SELECT COUNT(*) AS n FROM \`${table}\``)
      expect(Number((rows as { n: number }[])[0]!.n)).toBe(0)

      const results = await t.runAtomically([
        { sql: upsert(table), params: ['a', 1, '{}'] },
        { sql: upsert(table), params: ['b', 1, '[]'] },
        session,
      ])
      const id = Number(results[2]!.rows[0]?.id)
      const [open] = await admin.query(
        'SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id = ?',
        [id],
      )
      expect(Number((open as { n: number }[])[0]!.n)).toBe(0)
      // Committed, and no metadata lock left behind on the table: DDL does not wait for the pool.
      await admin.query('SET SESSION lock_wait_timeout = 2')
      try {
        await admin.query(`ALTER TABLE \`${table}\` COMMENT = 'unlocked'`)
      } finally {
        await admin.query('SET SESSION lock_wait_timeout = DEFAULT')
      }
      const [committed] = await admin.query(`SELECT id FROM \`${table}\` ORDER BY id`)
      expect((committed as { id: Buffer }[]).map((r) => String(r.id))).toEqual(['a', 'b'])
    })

    it('count the rows an upsert left as they were, and skip a statement whose onlyIf fails', async () => {
      const { table } = await store()
      const t = transport()
      const rows = (count: number) =>
        upsert(table).replace(/VALUES \(.*?\)\s+ON/s, () => {
          const row = "(?, ?, 0, '', 'default', 'json', 'application/json', '{}', NULL, 0)"
          return `VALUES ${Array(count).fill(row).join(', ')} ON`
        })
      await t.run({ sql: rows(2), params: ['a', 5, 'b', 5] })
      // a newer (updated), b older (left as it was), c and d new.
      const [mixed] = await t.runAtomically([{ sql: rows(4), params: ['a', 6, 'b', 4, 'c', 1, 'd', 1] }])
      expect(mixed!.unchangedRows).toBe(1)
      const [fresh] = await t.runAtomically([{ sql: rows(2), params: ['e', 1, 'f', 1] }])
      expect(fresh!.unchangedRows).toBe(0)
      const [newer] = await t.runAtomically([{ sql: rows(2), params: ['a', 9, 'b', 9] }])
      expect(newer!.unchangedRows).toBe(0)

      // Skipped, so a statement that would fail does not; its result is SKIPPED_RESULT.
      const broken = { sql: 'SELECT * FROM no_such_table_here', params: [] }
      const results = await t.runAtomically([
        { sql: rows(2), params: ['g', 1, 'h', 1] },
        { ...broken, onlyIf: (before) => before[0]!.unchangedRows !== 0 },
        { sql: 'SELECT COUNT(*) AS n FROM `' + table + '`', params: [] },
      ])
      expect(results[1]).toBe(SKIPPED_RESULT)
      expect(Number(results[2]!.rows[0]?.n)).toBe(8)
      // Not skipped: it runs, in the transaction (which its failure undoes).
      const error = await rejection(
        t.runAtomically([
          { sql: rows(1), params: ['i', 1] },
          { ...broken, onlyIf: () => true },
        ]),
      )
      expect(error).toBeInstanceOf(BackendError)
      const [count] = await admin.query(`SELECT COUNT(*) AS n FROM \`${table}\``)
      expect(Number((count as { n: number }[])[0]!.n)).toBe(8)
    })

    it('a store batch reads versions back only when a count shows a row the guard left', async () => {
      const inner = transport()
      const readBacks: boolean[] = []
      // Records what each onlyIf decided; the statements run on the real transport.
      const recording: SqlTransport = {
        driver: inner.driver,
        dialect: inner.dialect,
        target: inner.target,
        get maxStatementBytes() {
          return inner.maxStatementBytes
        },
        connect: () => inner.connect(),
        run: (statement) => inner.run(statement),
        close: () => inner.close(),
        runAtomically: (statements) =>
          inner.runAtomically(
            statements.map((statement) => {
              const { onlyIf } = statement
              if (onlyIf === undefined) return statement
              return {
                ...statement,
                onlyIf: (before: readonly SqlResult[]) => {
                  const decided = onlyIf(before)
                  readBacks.push(decided)
                  return decided
                },
              }
            }),
          ),
      }
      const s = new SqlStore(recording, mysqlDialect, tables.next())
      opened.push(s)
      await s.init()
      const batch = (version: number) =>
        Array.from({ length: 300 }, (_, i) => jsonRecord(`r${String(i).padStart(3, '0')}`, version + (i % 2)))
      expect(await s.write(batch(10))).toEqual({ applied: 300, stale: [] })
      expect(readBacks).toEqual([false])
      expect(await s.write(batch(20))).toEqual({ applied: 300, stale: [] })
      expect(readBacks).toEqual([false, false])
      // One row older than stored: the read-back runs and names exactly it.
      const mixed = batch(30).map((record, i) => (i === 7 ? { ...record, version: 1 } : record))
      const result = await s.write(mixed)
      expect(result.applied).toBe(299)
      expect(result.stale).toEqual(['r007'])
      expect(readBacks).toEqual([false, false, true])
    })
  })

  describe('refused data', () => {
    it("rejects only the JSON MariaDB's JSON_VALID refuses (nesting of 32+, lone surrogate escapes), typed, and writes the rest", async () => {
      const { store: s } = await store()
      const deep = `${'['.repeat(40)}${']'.repeat(40)}`
      const deepest = `${'['.repeat(31)}${']'.repeat(31)}`
      const records = [
        jsonRecord('ok-1', 1),
        jsonRecord('deep', 1, deep),
        jsonRecord('lone-surrogate', 1, String.raw`["\ud800"]`),
        jsonRecord('depth-31', 1, deepest),
        jsonRecord('ok-2', 1),
      ]
      const result = await s.write(records)
      const rejected = result.rejected ?? new Map()
      // MySQL 8 allows 100 levels: only MariaDB refuses the deep one.
      for (const [id, error] of rejected) {
        expect(['deep', 'lone-surrogate']).toContain(id)
        expect(error).toBeInstanceOf(InvalidArgumentError)
        expect(error.message).not.toContain(deep)
      }
      expect(result.applied).toBe(records.length - rejected.size)
      const found = await s.read(records.map((r) => r.id))
      expect(found.has('ok-1') && found.has('ok-2') && found.has('depth-31')).toBe(true)
      for (const id of rejected.keys()) expect(found.has(id)).toBe(false)
    })
  })

  describe('connections', () => {
    it('a killed idle connection does not break the next call: the pool drops it and opens another', async () => {
      const t = transport({ poolSize: 1 })
      const first = Number((await t.run({ sql: 'SELECT CONNECTION_ID() AS id', params: [] })).rows[0]?.id)
      await admin.query(`KILL ${first}`)
      const next = await t.run({ sql: 'SELECT CONNECTION_ID() AS id', params: [] })
      expect(Number(next.rows[0]?.id)).not.toBe(first)
      await expect(t.runAtomically([{ sql: 'SELECT ? AS x', params: [1] }])).resolves.toEqual([
        { rows: [{ x: 1 }], affectedRows: 0 },
      ])
    })

    it('a connection killed mid-statement is replaced and the statement runs again', async () => {
      const t = transport({ poolSize: 1 })
      const id = Number((await t.run({ sql: 'SELECT CONNECTION_ID() AS id', params: [] })).rows[0]?.id)
      const slow = t.run({ sql: 'SELECT SLEEP(?) AS s, CONNECTION_ID() AS id', params: [0.5] })
      await new Promise((resolve) => setTimeout(resolve, 150))
      await admin.query(`KILL ${id}`)
      const { rows } = await slow
      expect(Number(rows[0]?.id)).not.toBe(id)
    })

    it('a statement past its deadline fails with BackendError, its server thread is killed, and the next call works', async () => {
      const t = transport({ timeoutMs: 500, poolSize: 1 })
      const marker = `deadline-${Math.random().toString(36).slice(2)}`
      const error = await rejection(t.run({ sql: 'SELECT SLEEP(5) AS s, ? AS marker', params: [marker] }))
      expect(error).toBeInstanceOf(BackendError)
      expect(error.message).toBe('l3: mysql: no answer within 500 ms')
      expect((await t.run({ sql: 'SELECT 1 AS ok', params: [] })).rows).toEqual([{ ok: 1 }])
      // The abandoned SLEEP does not keep running on the server.
      let running = 1
      for (let i = 0; i < 40 && running > 0; i++) {
        const [rows] = await admin.query(
          `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(5)%' AND COMMAND <> 'Killed'`,
        )
        running = Number((rows as { n: number }[])[0]!.n)
        if (running > 0) await new Promise((resolve) => setTimeout(resolve, 50))
      }
      expect(running).toBe(0)
    })

    it('the deadline includes waiting for a pooled connection', async () => {
      const t = transport({ timeoutMs: 600, poolSize: 1 })
      const busy = t.run({ sql: 'SELECT SLEEP(0.45) AS s', params: [] })
      const waiting = rejection(t.run({ sql: 'SELECT SLEEP(0.45) AS s', params: [] }))
      await busy
      expect(await waiting).toBeInstanceOf(BackendError)
    })

    it('a deadlock victim is rolled back and run again, so both transactions commit', async () => {
      const { table } = await store()
      const t = transport({ poolSize: 2 })
      const upsert = `INSERT INTO \`${table}\` (id, version, updated_at, hash, state, content_type, mime, payload, payload_blob, tombstone)
        VALUES (?, ?, 0, '', 'default', 'json', 'application/json', '{}', NULL, 0)
        ON DUPLICATE KEY UPDATE version = IF(VALUES(version) > version, VALUES(version), version)`
      await t.runAtomically([
        { sql: upsert, params: ['x', 1] },
        { sql: upsert, params: ['y', 1] },
      ])
      // Opposite lock orders with a pause in between: InnoDB must pick a victim.
      const txn = (first: string, second: string, version: number) =>
        t.runAtomically([
          { sql: upsert, params: [first, version] },
          { sql: 'SELECT SLEEP(?) AS s', params: [0.3] },
          { sql: upsert, params: [second, version] },
        ])
      await Promise.all([txn('x', 'y', 2), txn('y', 'x', 3)])
      const { rows } = await t.run({ sql: `SELECT id, version FROM \`${table}\` ORDER BY id`, params: [] })
      expect(rows.map((r) => Number(r.version))).toEqual([3, 3])
    })

    it('calls after close fail with BackendError, and close is idempotent', async () => {
      const t = transport()
      await t.run({ sql: 'SELECT 1 AS ok', params: [] })
      await t.close()
      await t.close()
      expect(await rejection(t.run({ sql: 'SELECT 1 AS ok', params: [] }))).toBeInstanceOf(BackendError)
    })
  })

  describe('credentials', () => {
    it('a refused login is a BackendError that names neither the password nor the URL', async () => {
      const url = urlWith((u) => {
        u.username = 'root'
        u.password = 'S3cret-P%40ss'
      })
      const t = transport({ url })
      const error = await rejection(t.run({ sql: 'SELECT 1 AS ok', params: [] }))
      expect(error).toBeInstanceOf(BackendError)
      for (const text of [error.message, String((error as Error & { cause?: unknown }).cause)]) {
        expect(text).not.toContain('S3cret')
        expect(text).not.toContain(url)
      }
    })

    it('an unreachable server is a BackendError within the deadline that names no credentials', async () => {
      const url = urlWith((u) => {
        u.username = 'app'
        u.password = 'hunter2-secret'
        u.port = '1'
      })
      const error = await rejection(transport({ url, timeoutMs: 2_000 }).connect())
      expect(error).toBeInstanceOf(BackendError)
      expect(error.message).not.toContain('hunter2')
      expect(error.message).not.toContain(url)
    })

    it('a malformed URL is a ConfigError that does not repeat it', () => {
      for (const url of [
        'mysql//app:hunter2@db/x',
        'postgres://app:hunter2@db/x',
        'mysql://app:hunter2@db',
      ]) {
        let caught: unknown
        try {
          new Mysql2Transport({ url })
        } catch (error) {
          caught = error
        }
        expect(caught, url).toBeInstanceOf(ConfigError)
        expect((caught as ConfigError).message).not.toContain('hunter2')
        expect((caught as ConfigError).fields).toEqual(['sqlUrl'])
      }
    })
  })
})
