import { join } from 'node:path'
import { createSqliteStore } from '@sync-engine/sql-sqlite'
import { afterAll } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'
import { runL3Conformance } from './l3-conformance.ts'

const dir = makeTempDir('l3-conformance')
afterAll(() => dir.remove())
let files = 0

runL3Conformance('L3 conformance: better-sqlite3 (SQLite file)', async () => {
  const store = createSqliteStore({ path: join(dir.path, `store-${++files}.db`) })
  await store.init()
  return { store, cleanup: () => store.close() }
})
