import {
  ASSUMED_DEADLINE_MS,
  parseIndexDefinition,
  SqlSearchTables,
  type SqlStatement,
  type SqlTransport,
} from '@sync-engine/core/internal'
import { afterEach, describe, expect, it, vi } from 'vitest'

/**
 * On a shared database a new index's backfill waits until no write planned without the index can
 * still commit: the refresh interval (how stale another instance's copy may be when it plans a
 * transaction) plus the transport's deadline (how long that transaction may then run) plus a
 * second. Checked with fake timers on a transport that records what is sent.
 */
const definition = parseIndexDefinition({
  name: 'plans',
  prefix: 'u:',
  fields: { plan: { type: 'tag', path: '$.plan' } },
})

function recording(deadlineMs: number | undefined) {
  const sent: string[] = []
  const transport: SqlTransport = {
    driver: 'recording',
    dialect: 'mysql',
    target: 'nowhere',
    ...(deadlineMs !== undefined && { deadlineMs }),
    run: async (statement: SqlStatement) => {
      sent.push(statement.sql)
      return { rows: [], affectedRows: 0 }
    },
    runAtomically: async (statements: readonly SqlStatement[]) => {
      for (const statement of statements) sent.push(statement.sql)
      return statements.map(() => ({ rows: [], affectedRows: 0 }))
    },
    close: async () => {},
  }
  const backfillStarted = () => sent.some((sql) => sql.startsWith('SELECT id, version, content_type'))
  return { transport, backfillStarted }
}

describe('a new index on a shared database', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  for (const deadlineMs of [2_500, undefined]) {
    it(`starts its backfill after the refresh interval, the transport's deadline (${deadlineMs ?? 'not stated'}) and a second`, async () => {
      vi.useFakeTimers()
      const { transport, backfillStarted } = recording(deadlineMs)
      const tables = new SqlSearchTables(transport, 'items', { shared: true, refreshMs: 3_000 })
      const defined = tables.define(definition)
      const wait = 3_000 + (deadlineMs ?? ASSUMED_DEADLINE_MS) + 1_000
      await vi.advanceTimersByTimeAsync(wait - 1)
      expect(backfillStarted()).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      await expect(defined).resolves.toBe(true)
      expect(backfillStarted()).toBe(true)
    })
  }

  it('waits for nothing where one process owns the database', async () => {
    const { transport, backfillStarted } = recording(2_500)
    const tables = new SqlSearchTables(transport, 'items', { shared: false })
    await expect(tables.define(definition)).resolves.toBe(true)
    expect(backfillStarted()).toBe(true)
  })
})
