import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { text } from 'node:stream/consumers'
import { createPool, type FieldPacket, type PoolConnection, type ResultSetHeader } from 'mysql2/promise'

/**
 * A loopback server speaking the PlanetScale HTTP API (as `@planetscale/database` 1.20 uses it) over
 * a real MariaDB/MySQL, so the real HTTP client can be tested without the cloud service.
 *
 * - `POST /psdb.v1alpha1.Database/Execute` `{ query, session }` → `{ session, timing, result }`, or
 *   `{ session, error: { code, message } }` (status 200, as Vitess answers SQL errors). The client
 *   formats parameters itself, so the SQL runs as is on the text protocol.
 * - `POST /psdb.v1alpha1.Database/CreateSession` → `{ branch, user, session }`.
 * - Results carry Vitess type names and every value as its raw bytes: `rows: [{ lengths, values }]`,
 *   lengths as strings (`-1` for NULL), values the base64 of the bytes concatenated.
 * - `BEGIN`/`START TRANSACTION` pins one pooled connection to the session until `COMMIT`/`ROLLBACK`,
 *   so `transaction()` is a real transaction. Outside one, each statement takes any pooled
 *   connection: session variables (`SET @x`) do not carry over, unlike PlanetScale's vitessSession.
 * - A missing or wrong `Authorization: Basic` → 401 `{ error: { code: 'UNAUTHENTICATED' } }`.
 */

export interface PlanetScaleHttpServer {
  /** `http://user:pass@127.0.0.1:PORT`, for the client's `url` option (an http: URL stays http). */
  readonly url: string
  /** `127.0.0.1:PORT`, for the `host` option (the client then speaks https: pass a `fetch` that maps it). */
  readonly host: string
  readonly username: string
  readonly password: string
  close(): Promise<void>
}

export interface PlanetScaleHttpServerOptions {
  readonly mysqlUrl: string
  /** The database every statement runs in (overrides any path in `mysqlUrl`). */
  readonly database: string
  readonly username: string
  readonly password: string
}

/** What the client stores and sends back; opaque to it. */
interface Session {
  readonly signedSession: string
  readonly vitessSession: { readonly inTransaction: boolean }
}

interface VitessField {
  name: string
  type: string
  table: string
  orgTable: string
  database: string
  orgName: string
  columnLength: number
  charset: number
  flags: number
  decimals?: number
}

interface VitessResult {
  fields?: VitessField[]
  rows?: { lengths: string[]; values?: string }[]
  rowsAffected?: string
  insertId?: string
}

/** A request the protocol rejects as a whole (bad JSON, bad shape): answered with status 400. */
class RequestError extends Error {}

const BEGIN = /^\s*(begin|start\s+transaction)\b/i
// `ROLLBACK TO SAVEPOINT x` stays inside the transaction, so only a bare end counts.
const END = /^\s*(commit|rollback)(\s+work)?\s*;?\s*$/i
// Switching database would leave the shared pool pointing elsewhere for every later request.
const USE = /^\s*use\b/i

export async function startPlanetScaleHttpServer(
  options: PlanetScaleHttpServerOptions,
): Promise<PlanetScaleHttpServer> {
  // The client takes credentials from `url.username`/`url.password`, which stay percent-encoded, and
  // sends them so: anything but URL-safe characters would authenticate differently by url and by host.
  for (const value of [options.username, options.password]) {
    if (!/^[A-Za-z0-9._~-]+$/.test(value))
      throw new Error('username and password must be URL-safe ([A-Za-z0-9._~-]+)')
  }
  // bigNumberStrings keeps insertId above 2^53 exact; values never go through mysql2's casting.
  const pool = createPool({
    uri: options.mysqlUrl,
    database: options.database,
    charset: 'utf8mb4',
    supportBigNumbers: true,
    bigNumberStrings: true,
    connectionLimit: 8,
  })
  const pinned = new Map<string, PoolConnection>()
  const expected = Buffer.from(
    `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`,
  )

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, 500, { error: { code: 'INTERNAL', message: `planetscale-http-server: ${String(error)}` } })
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const auth = Buffer.from(req.headers.authorization ?? '')
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      return send(res, 401, { error: { code: 'UNAUTHENTICATED', message: 'invalid username or password' } })
    }
    if (req.method !== 'POST') {
      return send(res, 405, { error: { code: 'UNIMPLEMENTED', message: 'only POST is supported' } })
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    try {
      const body = JSON.parse((await text(req)) || '{}') as unknown
      if (path === '/psdb.v1alpha1.Database/CreateSession') {
        return send(res, 200, { branch: {}, user: { username: options.username }, session: newSession() })
      }
      if (path === '/psdb.v1alpha1.Database/Execute') return send(res, 200, await execute(body))
      return send(res, 404, { error: { code: 'NOT_FOUND', message: `unknown endpoint ${path}` } })
    } catch (error) {
      if (error instanceof RequestError || error instanceof SyntaxError) {
        return send(res, 400, { error: { code: 'INVALID_ARGUMENT', message: error.message } })
      }
      throw error
    }
  }

  async function execute(body: unknown): Promise<object> {
    if (typeof body !== 'object' || body === null) throw new RequestError('body must be an object')
    const { query, session: raw } = body as { query?: unknown; session?: unknown }
    if (typeof query !== 'string') throw new RequestError('query must be a string')
    const session = raw === null || raw === undefined ? newSession() : toSession(raw)
    const started = process.hrtime.bigint()
    const id = session.signedSession
    let connection = pinned.get(id)
    const fail = (code: string, message: string, inTransaction: boolean) => ({
      session: withTransaction(session, inTransaction),
      error: { code, message },
    })
    // The client believes a transaction is open that this server no longer holds (closed, or a
    // forged session): running its statements in autocommit would silently break atomicity.
    if (session.vitessSession.inTransaction && connection === undefined) {
      return fail('ABORTED', `transaction for session ${id} not found`, false)
    }
    if (USE.test(query))
      return fail('INVALID_ARGUMENT', 'USE is not supported over this server', !!connection)
    if (BEGIN.test(query) && connection === undefined) {
      connection = await pool.getConnection()
      pinned.set(id, connection)
    }
    const ending = END.test(query)
    let failed = false
    try {
      const result = await run(connection, query)
      return {
        session: withTransaction(session, connection !== undefined && !ending),
        timing: Number(process.hrtime.bigint() - started) / 1e9,
        result,
      }
    } catch (error) {
      const sql = error as { errno?: number; sqlState?: string; message?: string; fatal?: boolean }
      if (sql.errno === undefined) throw error
      failed = true
      // A lost connection takes its transaction with it; any other error leaves it open for the
      // client's ROLLBACK, exactly as MySQL does.
      if (sql.fatal && connection !== undefined) drop(id, true)
      const message = `${sql.message ?? 'error'} (errno ${sql.errno}) (sqlstate ${sql.sqlState ?? 'HY000'})`
      return fail(vitessCode(sql.errno), message, pinned.has(id) && !ending)
    } finally {
      // A COMMIT/ROLLBACK that failed may leave the connection mid-transaction: never pool it again.
      if (ending && pinned.has(id)) drop(id, failed)
    }
  }

  function drop(id: string, destroy: boolean): void {
    const connection = pinned.get(id)
    pinned.delete(id)
    if (destroy) connection?.destroy()
    else connection?.release()
  }

  async function run(connection: PoolConnection | undefined, sql: string): Promise<VitessResult> {
    // rowsAsArray keeps duplicate column names apart; `buffer()` hands over each value's raw bytes
    // (null for NULL), which is exactly what the protocol ships.
    const [rows, fields] = await (connection ?? pool).query({
      sql,
      rowsAsArray: true,
      typeCast: (field, _next) => field.buffer(),
    })
    if (!Array.isArray(rows)) return header(rows as ResultSetHeader)
    if (fields === undefined || fields.some((f) => Array.isArray(f))) {
      throw Object.assign(new Error('multiple result sets are not supported'), { errno: 1235 })
    }
    return {
      fields: (fields as FieldPacket[]).map(toField),
      rows: (rows as unknown as (Buffer | null)[][]).map((row) => {
        const values = Buffer.concat(row.filter((v): v is Buffer => v !== null))
        const encoded = { lengths: row.map((v) => (v === null ? '-1' : String(v.length))) }
        // protojson omits empty bytes, and the client copes with a missing `values`.
        return values.length > 0 ? { ...encoded, values: values.toString('base64') } : encoded
      }),
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${options.username}:${options.password}@127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    username: options.username,
    password: options.password,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      // An unfinished transaction dies with its connection, which rolls it back.
      for (const id of [...pinned.keys()]) drop(id, true)
      await pool.end()
    },
  }
}

function newSession(): Session {
  return { signedSession: randomBytes(16).toString('hex'), vitessSession: { inTransaction: false } }
}

function withTransaction(session: Session, inTransaction: boolean): Session {
  return { signedSession: session.signedSession, vitessSession: { inTransaction } }
}

function toSession(raw: unknown): Session {
  const s = raw as Partial<Session> | null
  if (typeof s?.signedSession !== 'string' || typeof s.vitessSession?.inTransaction !== 'boolean') {
    throw new RequestError('session is not one this server issued')
  }
  return withTransaction(s as Session, s.vitessSession.inTransaction)
}

/** DML: protojson leaves zero values out (uint64 travels as a string), and so does Vitess. */
function header(result: ResultSetHeader): VitessResult {
  const out: VitessResult = {}
  if (String(result.affectedRows) !== '0') out.rowsAffected = String(result.affectedRows)
  if (String(result.insertId) !== '0') out.insertId = String(result.insertId)
  return out
}

const UNSIGNED = 32
const BINARY_CHARSET = 63
const ENUM_FLAG = 256
const SET_FLAG = 2048

/** Integer types: their Vitess name takes a `U` prefix when the column is unsigned. */
const INTEGERS: Record<number, string> = { 1: 'INT8', 2: 'INT16', 3: 'INT32', 9: 'INT24', 8: 'INT64' }
/** Types whose Vitess name depends on nothing else. */
const FIXED: Record<number, string> = {
  0: 'DECIMAL',
  246: 'DECIMAL',
  4: 'FLOAT32',
  5: 'FLOAT64',
  6: 'NULL_TYPE',
  7: 'TIMESTAMP',
  10: 'DATE',
  14: 'DATE',
  11: 'TIME',
  12: 'DATETIME',
  13: 'YEAR',
  16: 'BIT',
  245: 'JSON',
  247: 'ENUM',
  248: 'SET',
  255: 'GEOMETRY',
}

/** MySQL column type code (+ unsigned flag, charset) → the Vitess `querypb.Type` name. */
function vitessType(code: number, flags: number, charset: number, extendedFormat?: string): string {
  const integer = INTEGERS[code]
  if (integer !== undefined) return (flags & UNSIGNED) !== 0 ? `U${integer}` : integer
  const fixed = FIXED[code]
  if (fixed !== undefined) return fixed
  const binary = charset === BINARY_CHARSET
  // TINY/MEDIUM/LONG/BLOB: MariaDB's JSON is LONGTEXT and says so only in the extended metadata.
  if (code >= 249 && code <= 252) return extendedFormat === 'json' ? 'JSON' : binary ? 'BLOB' : 'TEXT'
  if (code === 254) {
    // ENUM and SET columns arrive as STRING with a flag.
    if ((flags & ENUM_FLAG) !== 0) return 'ENUM'
    if ((flags & SET_FLAG) !== 0) return 'SET'
    return binary ? 'BINARY' : 'CHAR'
  }
  return binary ? 'VARBINARY' : 'VARCHAR' // VARCHAR (15), VAR_STRING (253)
}

function toField(field: FieldPacket): VitessField {
  const flags = typeof field.flags === 'number' ? field.flags : 0
  // The server's own charset goes through unchanged, as Vitess passes it: 63 on numeric, temporal
  // and binary columns, which is what the client's cast keys Uint8Array on.
  const charset = field.characterSet ?? 0
  const out: VitessField = {
    name: field.name,
    type: vitessType(field.columnType ?? field.type ?? 253, flags, charset, field.extendedFormat),
    table: field.table,
    orgTable: field.orgTable,
    database: field.schema ?? field.db ?? '',
    orgName: field.orgName,
    columnLength: field.columnLength ?? 0,
    charset,
    flags,
  }
  if (field.decimals) out.decimals = field.decimals
  return out
}

/** MySQL errno → Vitess vtrpc code, as vterrors maps the common ones; the rest are UNKNOWN. */
function vitessCode(errno: number): string {
  const codes: Record<number, string> = {
    1062: 'ALREADY_EXISTS',
    1050: 'ALREADY_EXISTS',
    1146: 'NOT_FOUND',
    1049: 'NOT_FOUND',
    1064: 'INVALID_ARGUMENT',
    1054: 'INVALID_ARGUMENT',
    1213: 'ABORTED',
    1205: 'DEADLINE_EXCEEDED',
    1045: 'PERMISSION_DENIED',
    1142: 'PERMISSION_DENIED',
  }
  return codes[errno] ?? 'UNKNOWN'
}

function send(res: ServerResponse, status: number, body: object): void {
  if (res.headersSent) return
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}
