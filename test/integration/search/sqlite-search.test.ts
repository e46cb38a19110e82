import { join } from 'node:path'
import { PartitionedStore, SqlStore, sqliteDialect, sqliteSearch } from '@sync-engine/core/internal'
import { BetterSqlite3Transport } from '@sync-engine/sql-sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'
import {
  differentialSearchCase,
  indexLifecycleCases,
  PLANNED,
  searchBackendOf,
  statementsFor,
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

  it('plans every operator as SEARCHes of the items and side tables by key, never a SCAN of them', async () => {
    const { table } = await backend.fresh()
    for (const planned of PLANNED) {
      for (const statement of statementsFor(backend, table, planned)) {
        const rows = (
          await transport.run({ sql: `EXPLAIN QUERY PLAN ${statement.sql}`, params: statement.params })
        ).rows
        const details = rows.map((row) => String((row as { detail: unknown }).detail))
        const summary = `${JSON.stringify(planned)}: ${details.join(' | ')}`
        // Aliases of real tables: i (items), d / s / x (side tables). b0, b1, u are a UNION's own rows.
        const reads = details.filter((detail) => /^(SEARCH|SCAN) [idsx]( |$)/.test(detail))
        expect(
          reads.some((detail) => /^SEARCH [dsx] /.test(detail)),
          summary,
        ).toBe(true)
        for (const detail of reads) expect(detail, summary).toMatch(/^SEARCH /)
      }
    }
  })
})
