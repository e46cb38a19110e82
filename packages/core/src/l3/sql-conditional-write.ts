import { InvalidArgumentError } from '../errors.ts'
import type { SqlDialect } from './sql-dialect.ts'
import { headFromRow, pushRowParams, type Row, updatedParams } from './sql-rows.ts'
import type { SqlResult, SqlStatement, SqlTransport, SqlValue } from './sql-transport.ts'
import { isLive } from './stored-record.ts'

/** What became of one conditional record. */
export type ConditionalOutcome =
  | { readonly kind: 'applied'; readonly replacedLive: boolean }
  /** The condition did not hold: `current` is the live version (0: no live item). */
  | { readonly kind: 'conflict'; readonly current: number }
  /** The condition held but a newer version is stored (the version guard kept it). */
  | { readonly kind: 'stale'; readonly current: number }

/**
 * Writes one record only if its condition holds, atomically — the check is the write's own WHERE
 * clause, so no other writer can slip in between:
 * - `ifVersion` n > 0: an UPDATE of the row whose live item is at version n;
 * - `ifVersion` 0 (create only): an UPDATE of the row if it is a tombstone or expired, else an
 *   INSERT of a row that does not exist (a concurrent insert of the same id is refused by the
 *   primary key, and that is a conflict too).
 * Every form keeps the version guard (`version < new`). The row's state after the statements is
 * read in the same transaction to tell a failed condition from a stale write.
 */
export async function writeConditional(
  transport: SqlTransport,
  dialect: SqlDialect,
  table: string,
  row: Row,
  ifVersion: number,
  now: number,
): Promise<ConditionalOutcome> {
  const { record } = row
  const head: SqlStatement = { sql: dialect.selectHeads(table, 1), params: [record.id] }
  const writes: SqlStatement[] =
    ifVersion > 0
      ? [
          {
            sql: dialect.conditionalUpdate(table, 'live'),
            params: [...updatedParams(row), record.id, record.version, ifVersion, now],
          },
        ]
      : [
          {
            sql: dialect.conditionalUpdate(table, 'dead'),
            params: [...updatedParams(row), record.id, record.version, now],
          },
          { sql: dialect.insertIfAbsent(table), params: insertParams(row) },
        ]
  let results: SqlResult[]
  try {
    results = await transport.runAtomically([...writes, head])
  } catch (error) {
    // A concurrent create of the same id won the primary key: it exists now.
    if (!(error instanceof InvalidArgumentError && /duplicate/i.test(error.message))) throw error
    const current = (await transport.run(head)).rows[0]
    return { kind: 'conflict', current: current ? headFromRow(current).version : 0 }
  }
  const applied = results.slice(0, writes.length).some((result) => result.affectedRows > 0)
  if (applied) return { kind: 'applied', replacedLive: ifVersion > 0 }
  const found = results.at(-1)?.rows[0]
  const stored = found ? headFromRow(found) : undefined
  const live = isLive(stored, now)
  const current = live ? stored!.version : 0
  const held = ifVersion > 0 ? current === ifVersion : !live
  return held ? { kind: 'stale', current: stored?.version ?? 0 } : { kind: 'conflict', current }
}

function insertParams(row: Row): SqlValue[] {
  const params: SqlValue[] = []
  pushRowParams(params, row)
  params.push(row.record.id)
  return params
}
