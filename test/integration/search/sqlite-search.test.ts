import { join } from 'node:path'
import {
  PartitionedStore,
  parseSearchRequest,
  type SqlStatement,
  SqlStore,
  type SqlTransport,
  sqliteDialect,
  sqliteSearch,
} from '@sync-engine/core/internal'
import { BetterSqlite3Transport } from '@sync-engine/sql-sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'
import { writeIndexed } from './sql-search-harness.ts'
import {
  differentialSearchCase,
  index,
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

  it('reads an unsorted page from its rarest term (SQLite keeps no statistics to choose by)', async () => {
    const sent: SqlStatement[] = []
    const watched: SqlTransport = {
      driver: transport.driver,
      dialect: transport.dialect,
      target: transport.target,
      run: (statement) => {
        sent.push(statement)
        return transport.run(statement)
      },
      runAtomically: (statements) => transport.runAtomically(statements),
      close: async () => {},
    }
    const store = new SqlStore(watched, sqliteDialect, 'rarest_items')
    await store.init()
    await store.search.define(index)
    const docs = Array.from({ length: 40 }, (_, n) => ({
      id: `d:${String(n).padStart(2, '0')}`,
      value: { kind: 'x', body: n % 20 === 7 ? 'alpha beta' : 'alpha', meta: { note: 'gamma' } },
    }))
    await writeIndexed(store, docs, 1)
    for (const [query, driver] of [
      [{ text: { field: 'body', terms: 'alpha beta' } }, 'beta'],
      [{ and: [{ eq: { field: 'kind', value: 'x' } }, { text: { field: 'body', terms: 'beta' } }] }, 'beta'],
    ] as const) {
      sent.length = 0
      const page = await store.search.search(parseSearchRequest({ index: 'docs', query }), Date.now())
      expect(page.items.map((item) => item.id)).toEqual(['d:07', 'd:27'])
      const statement = sent.find((s) => s.sql.startsWith('SELECT d.id'))!
      // The driving side rows are the first bound after the index name and field.
      expect(statement.params.slice(0, 3), JSON.stringify(query)).toEqual(['docs', 'body', driver])
    }
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
