import { encodeEnvelope, mysqlDialect, type SqlValue, type SyncItem } from '@sync-engine/core/internal'
import type { Connection } from 'mysql2/promise'
import { collectGarbage } from './fixtures.ts'
import type { MysqlService, RedisService } from './services.ts'
import { nowMs } from './stats.ts'
import { makeItems } from './tiers.ts'

/** Rows per multi-row statement of the raw MySQL baselines. */
export const RAW_ROWS_PER_STATEMENT = 500

/** Items for a write scenario into Redis + MariaDB, and what the raw baselines send for them. */
export interface TieredFixture {
  readonly items: readonly SyncItem[]
  /** `items` in groups of the scenario's chunk size (submits in flight at once, or one batch). */
  readonly chunks: readonly (readonly SyncItem[])[]
  /** Raw baseline: the bind parameters of each 500-row statement, in the engine's column order. */
  readonly statementParams: readonly SqlValue[][]
  /** Raw baseline: the version each row carries. */
  readonly rawVersions: readonly number[]
  /** Raw baseline: the L2 envelope of each item (what the engine's Redis value holds). */
  readonly envelopes: readonly Buffer[]
  /** The JSON text of the last item (to verify a run). */
  readonly lastText: string
}

/** Built before timing: the baselines bind values an application would already hold. */
export function buildTieredFixture(n: number, chunkSize: number): TieredFixture {
  const items = makeItems(n)
  const chunks: SyncItem[][] = []
  for (let i = 0; i < n; i += chunkSize) chunks.push(items.slice(i, i + chunkSize))
  const decoder = new TextDecoder()
  const updatedAt = Date.now()
  const versioned = items.map((item, i) => item.withVersion(updatedAt * 1000 + i, updatedAt))
  const statementParams: SqlValue[][] = []
  for (let start = 0; start < n; start += RAW_ROWS_PER_STATEMENT) {
    const params: SqlValue[] = []
    for (const item of versioned.slice(start, start + RAW_ROWS_PER_STATEMENT)) {
      params.push(...rowValues(item, decoder))
    }
    statementParams.push(params)
  }
  return {
    items,
    chunks,
    statementParams,
    rawVersions: versioned.map((item) => item.version),
    envelopes: versioned.map((item) => Buffer.from(encodeEnvelope(item))),
    lastText: decoder.decode(items[n - 1]!.content),
  }
}

/**
 * A write run into Redis + MariaDB stored everything: as many live rows in `table` and keys under
 * `prefix` as `fixture` has items, and the last item's JSON text in SQL. Throws, naming `scenario`.
 */
export async function verifyTieredRun(
  scenario: string,
  redis: RedisService,
  sql: Connection,
  table: string,
  prefix: string,
  fixture: Pick<TieredFixture, 'items' | 'lastText'>,
): Promise<void> {
  const expected = fixture.items.length
  const [rows] = await sql.query(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE tombstone = 0`)
  const n = Number((rows as { n: number }[])[0]?.n)
  const keys = await redis.countItemKeys(prefix)
  if (n !== expected || keys !== expected) {
    throw new Error(`${scenario}: ${n} rows and ${keys} Redis keys, expected ${expected}`)
  }
  const last = fixture.items[expected - 1]!
  const [found] = await sql.query(`SELECT payload FROM \`${table}\` WHERE id = ?`, [last.id])
  if ((found as { payload: string }[])[0]?.payload !== fixture.lastText) {
    throw new Error(`${scenario}: ${last.id} differs`)
  }
}

/**
 * The values the engine binds for `item`'s row, in its column order (`ITEM_COLUMNS`): a raw
 * baseline's upsert binds the same. `item` carries its version; JSON content goes as its text.
 */
export function rowValues(item: SyncItem, decoder = new TextDecoder()): SqlValue[] {
  return [
    item.id,
    item.version,
    item.updatedAt,
    item.hash,
    item.state,
    item.contentType,
    item.mime,
    decoder.decode(item.content),
    null, // payload_blob: JSON goes as text
    0, // tombstone
    null, // expires_at: no TTL
  ]
}

/**
 * The raw baseline of the drain scenarios: the fixture's rows into a fresh table through one
 * mysql2 connection, prepared 500-row upserts (the engine's own SQL), `txnRows` rows per
 * BEGIN…COMMIT; then `verify` on the table. Returns the whole time and each transaction's.
 */
export async function rawUpsertRun(
  mysql: MysqlService,
  fixture: TieredFixture,
  options: {
    readonly table: string
    readonly txnRows: number
    readonly verify: (sql: Connection, table: string) => Promise<void>
  },
): Promise<{ ms: number; batchMs: number[] }> {
  const table = mysql.table(options.table)
  const sql = await mysql.connection()
  const n = fixture.items.length
  try {
    for (const statement of mysqlDialect.createSchema(table)) await sql.query(statement.sql)
    // A last statement shorter than the others (n not a multiple of 500) needs its own text.
    const upserts = fixture.statementParams.map((_, s) =>
      mysqlDialect.upsert(table, Math.min(RAW_ROWS_PER_STATEMENT, n - s * RAW_ROWS_PER_STATEMENT)),
    )
    const perTxn = options.txnRows / RAW_ROWS_PER_STATEMENT
    collectGarbage()
    const batchMs: number[] = []
    const t0 = nowMs()
    for (let s0 = 0; s0 < upserts.length; s0 += perTxn) {
      const b0 = nowMs()
      await sql.query('BEGIN')
      for (let s = s0; s < Math.min(s0 + perTxn, upserts.length); s++) {
        await sql.execute(upserts[s]!, fixture.statementParams[s]!)
      }
      await sql.query('COMMIT')
      batchMs.push(nowMs() - b0)
    }
    const ms = nowMs() - t0
    await options.verify(sql, table)
    return { ms, batchMs }
  } finally {
    sql.destroy()
    await mysql.dropTable(table)
  }
}
