import { Worker } from 'node:worker_threads'
import type { WalRow } from './sqlite-wal-rows.ts'

interface Pending {
  readonly resolve: (rows: WalRow[]) => void
  readonly reject: (error: Error) => void
}

type Answer = { id: number; rows: WalRow[] } | { id: number; error: string }

/** A statement the reader thread prepares: its SQL, and which selected column holds content bytes. */
export interface ReaderStatement {
  readonly sql: string
  readonly contentColumn?: number
}

/**
 * Runs SELECTs of the log on a worker thread, with its own read-only connection to the file.
 *
 * Why: turning SQLite rows into JS values is the log's largest cost when draining — about 5 µs a
 * row on the machines we measure on, ~0.5 s for 100,000 entries — and better-sqlite3 only does it
 * synchronously. On the main thread that time is taken from the L3 writes the drain is feeding;
 * here it overlaps them, and the main thread only receives the rows (~1.3 µs a row, measured).
 *
 * The worker starts at the first query and is referenced only while a query is pending, so an idle
 * reader never keeps a process alive. If it dies, pending queries fail and the next one starts a
 * new worker.
 */
export class WalReaderThread<Name extends string> {
  readonly #path: string
  readonly #statements: Readonly<Record<Name, ReaderStatement>>
  #worker: Worker | undefined
  readonly #pending = new Map<number, Pending>()
  #nextId = 0

  constructor(path: string, statements: Readonly<Record<Name, ReaderStatement>>) {
    this.#path = path
    this.#statements = statements
  }

  query(statement: Name, params: readonly (string | number)[]): Promise<WalRow[]> {
    const worker = this.#started()
    const id = ++this.#nextId
    return new Promise<WalRow[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      if (this.#pending.size === 1) worker.ref()
      worker.postMessage({ id, statement, params })
    })
  }

  /** Stops the worker; queries still pending fail. */
  async close(): Promise<void> {
    const worker = this.#worker
    this.#worker = undefined
    this.#failAll(new Error('the log was closed while a read was pending'))
    await worker?.terminate()
  }

  #started(): Worker {
    if (this.#worker) return this.#worker
    const worker = new Worker(new URL('./wal-read-worker.mjs', import.meta.url), {
      workerData: { path: this.#path, statements: this.#statements },
      // The worker needs no loader: it is plain JavaScript.
      execArgv: [],
    })
    worker.unref()
    worker.on('message', (answer: Answer) => this.#answer(answer))
    worker.on('error', (error) => this.#lost(worker, error))
    worker.on('exit', (code) =>
      this.#lost(worker, new Error(`the log's reader thread exited (code ${code})`)),
    )
    this.#worker = worker
    return worker
  }

  #answer(answer: Answer): void {
    const pending = this.#pending.get(answer.id)
    if (!pending) return
    this.#pending.delete(answer.id)
    if (this.#pending.size === 0) this.#worker?.unref()
    if ('error' in answer) pending.reject(new Error(answer.error))
    else pending.resolve(answer.rows)
  }

  #lost(worker: Worker, error: Error): void {
    if (this.#worker !== worker) return
    this.#worker = undefined
    this.#failAll(error)
  }

  #failAll(error: Error): void {
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    for (const call of pending) call.reject(error)
  }
}
