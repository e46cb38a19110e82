import type { PendingWrite } from '@sync-engine/core'
import type Database from 'better-sqlite3'
import { INSERT_COLUMNS, pushRow, REMOVED_THROUGH_KEY, SELECT_COLUMNS } from './sqlite-wal-rows.ts'
import { PAGE_STATEMENTS } from './wal-page-statements.ts'

/** Entries and their bytes. */
export interface Counts {
  entries: number
  bytes: number
}

/**
 * Rows per INSERT statement: 16 parameters a row, well under SQLite's 32,766. Measured against a
 * prepared one-row INSERT looped in the same transaction, 100-row statements append 10–20 % faster;
 * larger ones gain nothing more and cost more to prepare.
 */
const ROWS_PER_INSERT = 100
/** Rows one compaction step deletes: a few milliseconds of the thread. */
export const COMPACTION_STEP_ROWS = 2_000

/** The log's prepared statements and transactions (see `prepareWalStatements`). */
export interface WalStatements {
  readonly insertGroup: (group: readonly { readonly writes: readonly PendingWrite[] }[]) => Counts
  readonly removeSettled: (settled: ReadonlyMap<string, number>) => Counts
  readonly removeRange: (seq: number) => Counts & { through: number }
  readonly deleteRemovedRows: () => number
  readonly hasRemovedRows: Database.Statement
  readonly selectAfter: Database.Statement
  readonly selectKeysAfter: Database.Statement
  readonly selectSeqs: (count: number) => Database.Statement
  readonly selectLatest: Database.Statement
  readonly setMeta: (key: string, value: Uint8Array | number) => void
  readonly getMeta: (key: string) => Uint8Array | number | undefined
}

/**
 * The log's prepared statements and transactions, built once per open file. `removedThrough`
 * reads the watermark: entries at or below it are removed already.
 */
export function prepareWalStatements(db: Database.Database, removedThrough: () => number): WalStatements {
  const insertStatements = new Map<number, Database.Statement>()
  const insert = (rows: number) => {
    let statement = insertStatements.get(rows)
    if (statement === undefined) {
      const row = `(${INSERT_COLUMNS.map(() => '?').join(', ')})`
      statement = db.prepare(
        `INSERT INTO wal (${INSERT_COLUMNS.join(', ')}) VALUES ${Array(rows).fill(row).join(', ')}`,
      )
      insertStatements.set(rows, statement)
    }
    return statement
  }
  const insertGroup = db.transaction((group: readonly { readonly writes: readonly PendingWrite[] }[]) => {
    const params: Parameters<typeof pushRow>[0] = []
    let rows = 0
    const added: Counts = { entries: 0, bytes: 0 }
    for (const call of group) {
      for (const write of call.writes) {
        // Bytes are counted from what is inserted, so the stats match the file whatever the caller does.
        added.bytes += pushRow(params, write)
        added.entries++
        if (++rows === ROWS_PER_INSERT) {
          insert(rows).run(params)
          params.length = 0
          rows = 0
        }
      }
    }
    if (rows > 0) insert(rows).run(params)
    return added
  })

  // Rows below the watermark were counted out already: compaction deletes them, not this.
  const deleteSettled = db
    .prepare('DELETE FROM wal WHERE id = ? AND version <= ? AND seq > ? RETURNING bytes')
    .raw(true)
  const removeSettled = db.transaction((settled: ReadonlyMap<string, number>) => {
    const removed: Counts = { entries: 0, bytes: 0 }
    for (const [id, version] of settled) {
      for (const [bytes] of deleteSettled.all(id, version, removedThrough()) as [number][]) {
        removed.entries++
        removed.bytes += bytes
      }
    }
    return removed
  })

  // A range of the primary key: counted (for the stats), then the watermark moves past it.
  const countRange = db.prepare('SELECT COUNT(*), TOTAL(bytes) FROM wal WHERE seq > ? AND seq <= ?').raw(true)
  const setWatermark = db.prepare(
    'INSERT INTO wal_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  )
  // Never past the highest seq assigned: a watermark ahead of it would hide the next appends.
  const highestSeq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'wal'").pluck()
  const removeRange = db.transaction((seq: number) => {
    const through = Math.min(seq, (highestSeq.get() as number | undefined) ?? 0)
    if (through <= removedThrough()) return { entries: 0, bytes: 0, through: removedThrough() }
    const [entries, bytes] = countRange.get(removedThrough(), through) as [number, number]
    setWatermark.run(REMOVED_THROUGH_KEY, through)
    return { entries, bytes, through }
  })
  // The oldest removed rows, one step's worth (rowid order: a range scan of the table).
  const deleteRemoved = db.prepare(
    'DELETE FROM wal WHERE seq IN (SELECT seq FROM wal WHERE seq <= ? ORDER BY seq LIMIT ?)',
  )
  const hasRemovedRows = db.prepare('SELECT EXISTS (SELECT 1 FROM wal WHERE seq <= ?)').pluck()
  const deleteRemovedRows = () => deleteRemoved.run(removedThrough(), COMPACTION_STEP_ROWS).changes

  // Raw rows (arrays): about twice as fast to read as objects, which matters when draining.
  const selectAfter = db.prepare(PAGE_STATEMENTS.entries.sql).raw(true)
  const selectKeysAfter = db.prepare(PAGE_STATEMENTS.keys.sql).raw(true)
  const bySeqs = new Map<number, Database.Statement>()
  const selectSeqs = (count: number) => {
    let statement = bySeqs.get(count)
    if (statement === undefined) {
      const marks = Array(count).fill('?').join(', ')
      statement = db.prepare(`SELECT ${SELECT_COLUMNS} FROM wal WHERE seq IN (${marks})`).raw(true)
      bySeqs.set(count, statement)
    }
    return statement
  }
  const selectLatest = db
    .prepare(
      `SELECT ${SELECT_COLUMNS} FROM wal WHERE id = ? AND seq > ? ORDER BY version DESC, seq DESC LIMIT 1`,
    )
    .raw(true)
  const getMeta = db.prepare('SELECT value FROM wal_meta WHERE key = ?').pluck()
  return {
    insertGroup,
    removeSettled,
    removeRange,
    deleteRemovedRows,
    hasRemovedRows,
    selectAfter,
    selectKeysAfter,
    selectSeqs,
    selectLatest,
    setMeta: (key: string, value: Uint8Array | number) => {
      setWatermark.run(key, value)
    },
    getMeta: (key: string) => getMeta.get(key) as Uint8Array | number | undefined,
  }
}
