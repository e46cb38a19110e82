export { createMysqlStore, type MysqlStoreOptions } from './create-mysql-store.ts'
export { type MysqlEndpoint, parseMysqlUrl } from './mysql-url.ts'
export { type Mysql2Options, Mysql2Transport } from './mysql2-transport.ts'
