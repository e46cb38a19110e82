export { BetterSqlite3Transport, createSqliteStore, type SqliteOptions } from './better-sqlite3-transport.ts'
export { WAL_ENTRY_OVERHEAD_BYTES, walEntryBytes } from './sqlite-wal-rows.ts'
export {
  createSqliteWriteAheadLog,
  SqliteWriteAheadLog,
  type SqliteWriteAheadLogOptions,
} from './sqlite-write-ahead-log.ts'
