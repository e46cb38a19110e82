import { createMysqlStore } from '@sync-engine/sql-mysql2'
import { afterAll } from 'vitest'
import { describeWithMysql, mysqlTables, mysqlUrl } from '../support/services.ts'
import { runL3Conformance } from './l3-conformance.ts'

// A table of its own for every test, all named after this file's random token and dropped here.
const tables = mysqlTables()
afterAll(() => tables.dropAll())

describeWithMysql('mysql2 on MariaDB/MySQL', () => {
  runL3Conformance('L3 conformance: mysql2', async () => {
    const store = createMysqlStore({ url: mysqlUrl(), table: tables.next() })
    await store.init()
    return { store, cleanup: () => store.close() }
  })
})
