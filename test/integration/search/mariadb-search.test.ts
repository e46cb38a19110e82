import { mysqlDialect, mysqlSearch, SqlStore, searchTables } from '@sync-engine/core/internal'
import { Mysql2Transport } from '@sync-engine/sql-mysql2'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeWithMysql, mysqlTables, mysqlUrl } from '../support/services.ts'
import {
  differentialSearchCase,
  index,
  indexLifecycleCases,
  PLANNED,
  type SqlSearchBackend,
  statementFor,
} from './sql-search-suite.ts'

describeWithMysql('SQL search on MariaDB', () => {
  const names = mysqlTables()
  const created: string[] = []
  let transport: Mysql2Transport
  const tablesOf = new Map<SqlStore, string>()
  const backend: SqlSearchBackend = {
    storeOver: (store) => new SqlStore(transport, mysqlDialect, tablesOf.get(store)!),
    transport: () => transport,
    dialect: mysqlSearch,
    runs: 40,
    async fresh(options = {}) {
      const table = names.next()
      const store = new SqlStore(transport, mysqlDialect, table)
      await store.init()
      if (options.define !== false) await store.search.define(index)
      created.push(...Object.values(searchTables(table)))
      tablesOf.set(store, table)
      return { table, store }
    },
  }

  beforeAll(() => {
    transport = new Mysql2Transport({ url: mysqlUrl() })
  })
  afterAll(async () => {
    for (const side of created) await transport.run({ sql: `DROP TABLE IF EXISTS \`${side}\``, params: [] })
    await transport.close()
    await names.dropAll()
  })

  differentialSearchCase(backend)
  indexLifecycleCases(backend)

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
