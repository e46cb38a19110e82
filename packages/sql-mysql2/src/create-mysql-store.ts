import { mysqlDialect, PartitionedStore } from '@sync-engine/core/internal'
import { type Mysql2Options, Mysql2Transport } from './mysql2-transport.ts'

export interface MysqlStoreOptions extends Mysql2Options {
  /** Items table name. */
  table?: string
  /** How old the index definitions and partitions read by this process may get (default 5,000 ms; 0: never re-read). */
  catalogRefreshMs?: number
}

/** L3 on MySQL 8 or MariaDB 10.11+ through mysql2. Nothing connects until `init()`. */
export function createMysqlStore(options: MysqlStoreOptions): PartitionedStore {
  return new PartitionedStore(new Mysql2Transport(options), mysqlDialect, options.table, {
    ...(options.catalogRefreshMs !== undefined && { catalogRefreshMs: options.catalogRefreshMs }),
  })
}
