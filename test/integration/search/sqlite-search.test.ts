import { join } from 'node:path'
import {
  PartitionedStore,
  SqlStore,
  searchTables,
  sqliteDialect,
  sqliteSearch,
} from '@sync-engine/core/internal'
import { BetterSqlite3Transport } from '@sync-engine/sql-sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'
import {
  differentialSearchCase,
  indexLifecycleCases,
  PLANNED,
  searchBackendOf,
  statementFor,
} from './sql-search-suite.ts'

describe('SQL search on SQLite', () => {
  const dir = makeTempDir('sqlite-search')
  let transport: BetterSqlite3Transport
  let tables = 0
  const backendOf = (partitioned: boolean) =>
    searchBackendOf({
      open: (table, partitioned) =>
        partitioned
          ? new PartitionedStore(transport, sqliteDialect, table)
          : new SqlStore(transport, sqliteDialect, table),
      nextTable: () => `items_${++tables}`,
      transport: () => transport,
      dialect: sqliteSearch,
      runs: partitioned ? 60 : 120,
      partitioned,
    })
  const backend = backendOf(false)

  beforeAll(() => {
    transport = new BetterSqlite3Transport(join(dir.path, 'search.db'))
  })
  afterAll(async () => {
    await transport.close()
    dir.remove()
  })

  differentialSearchCase(backend)
  indexLifecycleCases(backend)

  describe('over partitions', () => {
    differentialSearchCase(backendOf(true))
    indexLifecycleCases(backendOf(true))
  })

  it('plans every operator as a SEARCH of a side table’s key and of the items table, never a SCAN', async () => {
    const { table } = await backend.fresh()
    const sides = searchTables(table)
    for (const [q, side] of PLANNED) {
      const statement = statementFor(backend, table, q)
      const rows = (
        await transport.run({ sql: `EXPLAIN QUERY PLAN ${statement.sql}`, params: statement.params })
      ).rows
      const details = rows.map((row) => String((row as { detail: unknown }).detail))
      const onSide = details.filter((detail) => detail.includes(sides[side]))
      expect(onSide.length, `${JSON.stringify(q)}: ${details.join(' | ')}`).toBeGreaterThan(0)
      for (const detail of onSide) expect(detail, JSON.stringify(q)).toMatch(/^SEARCH /)
      expect(
        details.some((detail) => /SCAN /.test(detail)),
        details.join(' | '),
      ).toBe(false)
    }
  })
})
