// The write-ahead log's reader thread (see wal-reader-thread.ts). Plain JavaScript on purpose: a
// worker starts with no TypeScript loader, whatever runs the main thread (tsx, Vitest, plain node).
//
// It owns a read-only connection to the log's file (WAL journal mode: readers never block the
// writer on the main thread) and answers one query per message, naming one of the statements it
// was started with. Rows go back in raw form (arrays in SELECT order); a statement that selects
// content has those bytes copied into one ArrayBuffer per answer, transferred, so the main thread
// receives one buffer and cheap views into it instead of one Buffer per row.
import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

const { path, statements } = workerData
const db = new Database(path, { readonly: true, fileMustExist: true })
db.pragma('busy_timeout = 5000')
const prepared = new Map(
  Object.entries(statements).map(([name, { sql, contentColumn }]) => [
    name,
    { select: db.prepare(sql).raw(true), contentColumn },
  ]),
)

parentPort.on('message', (request) => {
  try {
    const { select, contentColumn } = prepared.get(request.statement)
    const rows = select.all(...request.params)
    if (contentColumn === undefined) {
      parentPort.postMessage({ id: request.id, rows })
      return
    }
    let total = 0
    for (const row of rows) {
      const content = row[contentColumn]
      if (content !== null) total += content.byteLength
    }
    const buffer = new ArrayBuffer(total)
    const bytes = new Uint8Array(buffer)
    let offset = 0
    for (const row of rows) {
      const content = row[contentColumn]
      if (content === null) continue
      bytes.set(content, offset)
      row[contentColumn] = new Uint8Array(buffer, offset, content.byteLength)
      offset += content.byteLength
    }
    parentPort.postMessage({ id: request.id, rows }, [buffer])
  } catch (error) {
    parentPort.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) })
  }
})
