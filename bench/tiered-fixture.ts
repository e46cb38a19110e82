import { encodeEnvelope, type SqlValue, type SyncItem } from '@sync-engine/core/internal'
import type { Connection } from 'mysql2/promise'
import type { RedisService } from './services.ts'
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
  const keys = await redis.countPrefix(prefix)
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
