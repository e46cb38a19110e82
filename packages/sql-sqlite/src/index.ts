export { BetterSqlite3Transport, createSqliteStore, type SqliteOptions } from './better-sqlite3-transport.ts'
