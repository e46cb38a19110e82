import {
  mysqlDialect,
  mysqlSearch,
  PartitionedStore,
  parseSearchRequest,
  SqlStore,
} from '@sync-engine/core/internal'
import { Mysql2Transport } from '@sync-engine/sql-mysql2'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { describeWithMysql, mysqlTables, mysqlUrl } from '../support/services.ts'
import { writeIndexed } from './sql-search-harness.ts'
import {
  differentialSearchCase,
  index,
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

  it('drops and redefines an index of more side rows than one DELETE may take, in steps', async () => {
    const { store, table } = await backend.fresh({ define: false })
    const items = Array.from({ length: 21_000 }, (_, i) => ({
      id: `d:${i}`,
      value: { kind: i % 2 ? 'x' : 'y' },
    }))
    await writeIndexed(store, items, 10)
    expect(await store.search.define(index)).toBe(true)
    const run = vi.spyOn(transport, 'run')
    try {
      await store.search.drop('docs')
      const steps = run.mock.calls.filter(([statement]) =>
        /^DELETE FROM .*_search_tags` WHERE ix = \? LIMIT/.test(statement.sql),
      )
      // 21,000 tag rows: more than one step of 20,000, each its own statement (under the deadline).
      expect(steps.length).toBe(2)
    } finally {
      run.mockRestore()
    }
    const left = await transport.run({
      sql: `SELECT COUNT(*) AS n FROM \`${table}_search_tags\` WHERE ix = ?`,
      params: ['docs'],
    })
    expect(Number(left.rows[0]?.n)).toBe(0)
    // Defined again: built from scratch, and searchable.
    expect(await store.search.define(index)).toBe(true)
    const page = await store.search.search(
      parseSearchRequest({ index: 'docs', query: { eq: { field: 'kind', value: 'x' } }, limit: 5 }),
      Date.now(),
    )
    const expected = items
      .filter((item) => item.value.kind === 'x')
      .map((item) => item.id)
      .sort()
      .slice(0, 5)
    expect(page.items.map((item) => item.id)).toEqual(expected)
  })
})
