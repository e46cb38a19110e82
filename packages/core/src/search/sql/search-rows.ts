import type { SqlStatement } from '../../l3/sql-transport.ts'
import type { IndexDefinition } from '../index-definition.ts'
import { projectValue } from '../search-projection.ts'
import { type SearchSqlDialect, searchTables } from './search-sql-dialect.ts'

/** One item as the side tables take it: its JSON value, or none (binary, tombstone, expired). */
export interface IndexedWrite {
  readonly id: string
  readonly version: number
  readonly value: unknown
}

type Value = string | number

/** The side-table rows of `writes` under every index whose prefix covers them. */
export function sideRows(definitions: Iterable<IndexDefinition>, writes: readonly IndexedWrite[]) {
  const tags: Value[][] = []
  const numbers: Value[][] = []
  const words: Value[][] = []
  for (const definition of definitions) {
    for (const write of writes) {
      if (write.value === undefined || !write.id.startsWith(definition.prefix)) continue
      for (const [field, value] of projectValue(definition, write.value)) {
        if (value.type === 'tag') {
          value.tags.forEach((tag, ord) => {
            tags.push([definition.name, field, tag, write.id, ord, write.version])
          })
        } else if (value.type === 'numeric') {
          numbers.push([definition.name, field, value.value, write.id, write.version])
        } else {
          for (const word of value.words) words.push([definition.name, field, word, write.id, write.version])
        }
      }
    }
  }
  return { tags, numbers, words }
}

/** Rows per INSERT statement (6 parameters each: well under every backend's bind limit). */
const ROWS_PER_INSERT = 500

/**
 * The statements that bring the side tables in line with a write batch, run in the batch's own
 * transaction right after its version-guarded upserts: rows computed from an older version of an
 * id go; the new rows go in only where the item row holds exactly their version (the write was
 * applied, not superseded) and is live. A replayed write finds its rows there and adds nothing.
 */
export function refreshStatements(
  dialect: SearchSqlDialect,
  table: string,
  definitions: readonly IndexDefinition[],
  writes: readonly IndexedWrite[],
): SqlStatement[] {
  if (definitions.length === 0 || writes.length === 0) return []
  const covered = writes.filter((write) =>
    definitions.some((definition) => write.id.startsWith(definition.prefix)),
  )
  if (covered.length === 0) return []
  const q = dialect.quote
  const t = searchTables(table)
  const ids = [...new Set(covered.map((write) => write.id))]
  const statements: SqlStatement[] = []
  for (const side of [t.tags, t.numbers, t.words]) {
    statements.push({
      sql: `DELETE FROM ${q(side)} WHERE id IN (${ids.map(() => '?').join(', ')}) AND ver < (SELECT i.version FROM ${q(table)} i WHERE i.id = ${q(side)}.id)`,
      params: ids,
    })
  }
  const rows = sideRows(definitions, covered)
  const inserts: [string, readonly string[], Value[][]][] = [
    [t.tags, ['ix', 'f', 'v', 'id', 'ord', 'ver'], rows.tags],
    [t.numbers, ['ix', 'f', 'v', 'id', 'ver'], rows.numbers],
    [t.words, ['ix', 'f', 'w', 'id', 'ver'], rows.words],
  ]
  for (const [side, columns, values] of inserts) {
    for (let at = 0; at < values.length; at += ROWS_PER_INSERT) {
      const chunk = values.slice(at, at + ROWS_PER_INSERT)
      const first = columns.map((column) => `? AS ${column}`).join(', ')
      const rest = columns.map(() => '?').join(', ')
      const derived = chunk.map((_, n) => `SELECT ${n === 0 ? first : rest}`).join(' UNION ALL ')
      statements.push({
        sql:
          `INSERT INTO ${q(side)} (${columns.join(', ')}) SELECT ${columns.map((c) => `x.${c}`).join(', ')} ` +
          `FROM (${derived}) x JOIN ${q(table)} i ON i.id = x.id AND i.version = x.ver AND i.tombstone = 0 ` +
          `WHERE 1 = 1 ${dialect.ignoreDuplicates(side)}`,
        params: chunk.flat(),
      })
    }
  }
  return statements
}
