import { mysqlDialect, mysqlSearch, PartitionedStore, SqlStore } from '@sync-engine/core/internal'
import { Mysql2Transport } from '@sync-engine/sql-mysql2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeWithMysql, mysqlTables, mysqlUrl } from '../support/services.ts'
import {
  differentialSearchCase,
  indexLifecycleCases,
  PLANNED,
  searchBackendOf,
  statementsFor,
} from './sql-search-suite.ts'

describeWithMysql('SQL search on MariaDB', () => {
  const names = mysqlTables()
  let transport: Mysql2Transport
  const backendOf = (partitioned: boolean) =>
    searchBackendOf({
      open: (table, partitioned) =>
        partitioned
          ? new PartitionedStore(transport, mysqlDialect, table, { catalogRefreshMs: 0 })
          : new SqlStore(transport, mysqlDialect, table, { catalogRefreshMs: 0 }),
      nextTable: () => names.next(),
      transport: () => transport,
      dialect: mysqlSearch,
      runs: partitioned ? 15 : 40,
      partitioned,
    })
  const backend = backendOf(false)

  beforeAll(() => {
    transport = new Mysql2Transport({ url: mysqlUrl() })
  })
  afterAll(async () => {
    await transport.close()
    await names.dropAll()
  })

  differentialSearchCase(backend)
  indexLifecycleCases(backend)

  describe('over partitions', () => {
    differentialSearchCase(backendOf(true))
    indexLifecycleCases(backendOf(true))
  })

  it('plans every operator with keys of the items and side tables (ref or range, never ALL)', async () => {
    const { table } = await backend.fresh()
    for (const planned of PLANNED) {
      for (const statement of statementsFor(backend, table, planned)) {
        const rows = (await transport.run({ sql: `EXPLAIN ${statement.sql}`, params: statement.params }))
          .rows as { table: unknown; type: unknown; key: unknown }[]
        const text = (value: unknown) => (value === null || value === undefined ? '' : String(value))
        const summary = `${JSON.stringify(planned)}: ${rows.map((row) => `${text(row.table)}:${text(row.type)}:${text(row.key)}`).join(' | ')}`
        // Real tables by alias: i (items), d / s / x (side tables); <derived…>, <union…> and
        // <subquery…> are the statement's own row sets.
        const reads = rows.filter((row) => /^[idsx]$/.test(text(row.table)))
        expect(
          reads.some((row) => /^[dsx]$/.test(text(row.table))),
          summary,
        ).toBe(true)
        for (const row of reads) expect(text(row.type), summary).not.toBe('ALL')
      }
    }
  })
})
