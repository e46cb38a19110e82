import { CONTENT_COLUMN, SELECT_COLUMNS } from './sqlite-wal-rows.ts'

/** Pages after a seq, oldest first (inline and on the reader thread alike): entries, or keys only. */
export const PAGE_STATEMENTS = {
  entries: {
    sql: `SELECT ${SELECT_COLUMNS} FROM wal WHERE seq > ? ORDER BY seq LIMIT ?`,
    contentColumn: CONTENT_COLUMN,
  },
  keys: { sql: 'SELECT seq, id, version FROM wal WHERE seq > ? ORDER BY seq LIMIT ?' },
} as const

export type PageStatement = keyof typeof PAGE_STATEMENTS
