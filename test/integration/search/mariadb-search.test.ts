import {
  mysqlDialect,
  mysqlSearch,
  PartitionedStore,
  SqlStore,
  searchTables,
} from '@sync-engine/core/internal'
import { Mysql2Transport } from '@sync-engine/sql-mysql2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeWithMysql, mysqlTables, mysqlUrl } from '../support/services.ts'
import {
  differentialSearchCase,
  indexLifecycleCases,
  PLANNED,
  searchBackendOf,
  statementFor,
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

  it('plans every operator with a key of its side table (ref or range, never ALL)', async () => {
    const { table } = await backend.fresh()
    const sides = searchTables(table)
    for (const [q, side] of PLANNED) {
      const statement = statementFor(backend, table, q)
      const rows = (await transport.run({ sql: `EXPLAIN ${statement.sql}`, params: statement.params }))
        .rows as {
        table: unknown
        type: unknown
        key: unknown
      }[]
      const text = (value: unknown) => (value === null || value === undefined ? '' : String(value))
      const summary = rows.map((row) => `${text(row.table)}:${text(row.type)}:${text(row.key)}`).join(' | ')
      const onSide = rows.filter(
        (row) => text(row.table).includes(sides[side]) || text(row.table).startsWith('<subquery'),
      )
      expect(onSide.length, `${JSON.stringify(q)}: ${summary}`).toBeGreaterThan(0)
      for (const row of rows) expect(text(row.type), `${JSON.stringify(q)}: ${summary}`).not.toBe('ALL')
    }
  })
})
