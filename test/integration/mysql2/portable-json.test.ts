import { SyncItem } from '@sync-engine/core'
import { createMysqlStore } from '@sync-engine/sql-mysql2'
import { afterAll, expect, it } from 'vitest'
import { describeWithMysql, mysqlTables, mysqlUrl } from '../support/services.ts'

/** What the engine accepts as JSON, MariaDB stores: the limits `checkPortableJson` keeps are MariaDB's own. */
describeWithMysql('JSON the engine accepts, on MariaDB', () => {
  const tables = mysqlTables()
  const store = createMysqlStore({ url: mysqlUrl(), table: tables.next() })
  afterAll(async () => {
    await store.close()
    await tables.dropAll()
  })

  it('stores the deepest nesting and an escaped surrogate pair the engine accepts', async () => {
    await store.init()
    const deep = SyncItem.fromJson('deep', JSON.parse(`${'['.repeat(31)}1${']'.repeat(31)}`)).withVersion(
      1,
      1,
    )
    const pair = SyncItem.fromJsonBytes(
      'pair',
      new TextEncoder().encode('{"s":"\\ud83d\\ude00"}'),
    ).withVersion(1, 1)
    const result = await store.write([
      { ...deep, tombstone: false },
      { ...pair, tombstone: false },
    ])
    expect(result.rejected).toBeUndefined()
    expect(result.applied).toBe(2)
    expect((await store.read(['deep', 'pair'])).size).toBe(2)
  })
})
