import { join } from 'node:path'
import type { WriteAheadLog } from '@sync-engine/core'
import { SqliteWriteAheadLog, walEntryBytes } from '@sync-engine/sql-sqlite'
import { afterAll } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'
import { walConformance } from './wal-conformance.ts'

const dir = makeTempDir('wal-conformance')
afterAll(() => dir.remove())
let files = 0
/** Where each log lives, so that `reopen` opens the same file. */
const logFiles = new WeakMap<WriteAheadLog, { path: string; maxBytes: number }>()

async function openAt(path: string, maxBytes: number): Promise<WriteAheadLog> {
  const log = new SqliteWriteAheadLog({ path, maxBytes })
  await log.open()
  logFiles.set(log, { path, maxBytes })
  return log
}

walConformance('SqliteWriteAheadLog (better-sqlite3)', {
  create: (maxBytes) => openAt(join(dir.path, `wal-${++files}.db`), maxBytes),
  entryBytes: walEntryBytes,
  reopen: async (log) => {
    const { path, maxBytes } = logFiles.get(log)!
    await log.close()
    return openAt(path, maxBytes)
  },
})
