import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  BackendError,
  InvalidArgumentError,
  LogTargetMismatchError,
  type PendingWrite,
  type SettledWrite,
  type WalEntry,
  WalFullError,
  type WalKey,
  type WalStats,
  type WriteAheadLog,
} from '@sync-engine/core'
import Database from 'better-sqlite3'
import {
  REMOVED_THROUGH_KEY,
  TARGET_KEY,
  toLoggedWrite,
  WAL_FORMAT_VERSION,
  WAL_SCHEMA,
  type WalRow,
  walEntryBytes,
} from './sqlite-wal-rows.ts'
import {
  COMPACTION_STEP_ROWS,
  type Counts,
  prepareWalStatements,
  type WalStatements,
} from './sqlite-wal-statements.ts'
import { PAGE_STATEMENTS, type PageStatement } from './wal-page-statements.ts'
import { WalReaderThread } from './wal-reader-thread.ts'

export interface SqliteWriteAheadLogOptions {
  /** The log's own SQLite file (the engine uses `<dataDir>/wal.db`), never the L3 file. */
  path: string
  /** The bound on `stats().bytes`: an append that would pass it is refused with `WalFullError`. */
  maxBytes: number
  /**
   * - `full` (default): every commit is fsynced; an acknowledged append survives a process kill and
   *   a power loss.
   * - `normal`: no fsync per commit; an acknowledged append survives a process kill (the OS holds
   *   the pages) but not a power loss or an OS crash.
   */
  synchronous?: 'full' | 'normal'
  /**
   * Read large pages (a drain's, a replay's) on a worker thread, so turning rows into values
   * overlaps the caller's work instead of blocking it (default true; a `:memory:` log reads inline).
   */
  readThread?: boolean
}

/** Reads of at least this many entries go to the reader thread; smaller ones are not worth a hop. */
const THREAD_READ_MIN_ROWS = 512

/** What the -wal file is cut back to after a checkpoint (SQLite keeps it at its peak otherwise). */
const JOURNAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024

/**
 * The pause between compaction steps (`COMPACTION_STEP_ROWS` each), so that deleting what
 * `removeThrough` removed never holds the thread for long: deleting 100,000 rows at once took
 * 300–450 ms, all of it at the end of a drain.
 */
const COMPACTION_PAUSE_MS = 5
/** Longest an append waits for company in its group commit (see `append`). */
const GATHER_MS = 1

type Lifecycle = 'new' | 'open' | 'closed'

/** Seqs bound per `readSeqs` statement. */
const SEQS_PER_SELECT = 500

const toEntry = (row: WalRow): WalEntry => ({ seq: row[0] as number, write: toLoggedWrite(row) })

/** One `append` call waiting for its group's commit. */
interface PendingAppend {
  readonly writes: readonly PendingWrite[]
  /** Bytes reserved against `maxBytes` until the commit settles. */
  readonly bytes: number
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

/**
 * The write-ahead log in a SQLite file of its own, in WAL journal mode.
 *
 * Group commit: `append` only queues its writes; one `setImmediate` later every append of that tick
 * is committed in one transaction, so concurrent submits share one fsync. Where the last group had
 * more than one call (concurrent writers, e.g. an HTTP server under load), the commit waits up to
 * `GATHER_MS` for as many calls as that group had: requests arrive spread over several turns of
 * the event loop, and an fsync (~0.4 ms here) blocks the thread, so bigger groups are fewer stalls.
 * A lone writer's append is committed at once, as before. Operations take effect in
 * call order: `read`, `remove`, `latest` and `close` first commit the appends still pending. A
 * page read on the reader thread sees at least those, and possibly what was committed while it
 * ran (later appends; fewer entries if some were removed meanwhile) — never less than its call saw.
 *
 * `stats()` is kept in memory: counted from the file at `open()`, then updated by every commit.
 * That is exact as long as this object is the file's only writer (one engine per data dir).
 *
 * `removeThrough` is a watermark: one committed row says every entry up to a seq is removed, and
 * reads skip those entries from then on. Their rows are deleted afterwards, a few thousand per
 * step, between other work (and after a restart, from `open`). A seq is never reused, so the
 * watermark can only ever cover entries that were appended before it was set.
 */
export class SqliteWriteAheadLog implements WriteAheadLog {
  readonly driver = 'better-sqlite3'
  readonly #path: string
  readonly #maxBytes: number
  readonly #synchronous: 'full' | 'normal'
  readonly #reader: WalReaderThread<PageStatement> | undefined
  #state: Lifecycle = 'new'
  #db: Database.Database | undefined
  #entries = 0
  #bytes = 0
  #commits = 0
  #pending: PendingAppend[] = []
  /** Bytes of the pending appends: admitted against `maxBytes`, not committed yet. */
  #reservedBytes = 0
  #scheduled = false
  /** Calls in the last group committed: how many an append waits for (up to `GATHER_MS`). */
  #lastGroup = 0
  #gatherTimer: ReturnType<typeof setTimeout> | undefined
  /** Every entry with a seq at or below this is removed (rows may still be in the file). */
  #removedThrough = 0
  #target: string | undefined
  #compactionTimer: ReturnType<typeof setTimeout> | undefined
  readonly #compactionStep = () => {
    this.#compactionTimer = undefined
    this.#compact()
  }
  readonly #commitScheduled = () => {
    // Concurrent writers were seen: wait (briefly) until as many calls are pending as last time.
    if (this.#pending.length < this.#lastGroup && this.#gatherTimer === undefined) {
      this.#gatherTimer = setTimeout(this.#commitGathered, GATHER_MS)
      return
    }
    this.#commitGathered()
  }
  readonly #commitGathered = () => {
    this.#scheduled = false
    clearTimeout(this.#gatherTimer)
    this.#gatherTimer = undefined
    this.#commitPending()
  }
  /** Prepared at open(). */
  #sql!: WalStatements

  constructor(options: SqliteWriteAheadLogOptions) {
    const { path, maxBytes, synchronous = 'full', readThread = true } = options
    if (typeof path !== 'string' || path.length === 0) {
      throw new InvalidArgumentError('the write-ahead log needs a file path')
    }
    if (typeof maxBytes !== 'number' || Number.isNaN(maxBytes) || maxBytes <= 0) {
      throw new InvalidArgumentError(`maxBytes must be a positive number, got ${String(maxBytes)}`)
    }
    if (synchronous !== 'full' && synchronous !== 'normal') {
      throw new InvalidArgumentError(`synchronous must be 'full' or 'normal', got ${String(synchronous)}`)
    }
    if (typeof readThread !== 'boolean') {
      throw new InvalidArgumentError(`readThread must be true or false, got ${String(readThread)}`)
    }
    this.#path = path
    this.#maxBytes = maxBytes
    this.#synchronous = synchronous
    this.#reader = readThread && path !== ':memory:' ? new WalReaderThread(path, PAGE_STATEMENTS) : undefined
  }

  /** Append transactions committed by this object (group commit: one per tick of appends). */
  get commits(): number {
    return this.#commits
  }

  async open(): Promise<void> {
    if (this.#state === 'open') return
    if (this.#state === 'closed') throw this.#unusable('open')
    let db: Database.Database | undefined
    try {
      if (this.#path !== ':memory:') mkdirSync(dirname(this.#path), { recursive: true })
      db = new Database(this.#path)
      db.pragma('journal_mode = WAL')
      db.pragma(`synchronous = ${this.#synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
      db.pragma('busy_timeout = 5000')
      // A burst committed as one group grows the -wal file; once checkpointed, give the space back.
      db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`)
      const format = db.pragma('user_version', { simple: true }) as number
      if (format > WAL_FORMAT_VERSION) {
        throw new Error(
          `it was written in log format ${format}; this version reads up to ${WAL_FORMAT_VERSION}`,
        )
      }
      db.transaction(() => {
        db!.exec(WAL_SCHEMA)
        db!.pragma(`user_version = ${WAL_FORMAT_VERSION}`)
      })()
      this.#sql = prepareWalStatements(db, () => this.#removedThrough)
      const watermark = this.#sql.getMeta(REMOVED_THROUGH_KEY)
      this.#removedThrough = typeof watermark === 'number' ? watermark : 0
      const target = this.#sql.getMeta(TARGET_KEY)
      this.#target = target instanceof Uint8Array ? new TextDecoder().decode(target) : undefined
      const counts = db
        .prepare('SELECT COUNT(*) AS entries, COALESCE(SUM(bytes), 0) AS bytes FROM wal WHERE seq > ?')
        .get(this.#removedThrough) as Counts
      this.#entries = counts.entries
      this.#bytes = counts.bytes
    } catch (error) {
      db?.close()
      throw this.#failure('cannot open', error)
    }
    this.#db = db
    this.#state = 'open'
    // Rows a previous process removed but had not deleted yet.
    if (this.#run(() => this.#sql.hasRemovedRows.get(this.#removedThrough)) === 1) this.#scheduleCompaction()
  }

  get target(): string | undefined {
    return this.#target
  }

  async bind(target: string): Promise<void> {
    this.#usable('bind')
    if (typeof target !== 'string' || target.length === 0) {
      throw new InvalidArgumentError('the log target must be a non-empty string')
    }
    this.#commitPending()
    if (this.#target === target) return
    if (this.#target !== undefined && this.#entries > 0) {
      throw new LogTargetMismatchError(this.#target, target, this.#entries)
    }
    // As bytes: the column's INTEGER affinity would turn a numeric-looking text into a number.
    this.#run(() => this.#sql.setMeta(TARGET_KEY, new TextEncoder().encode(target)))
    this.#target = target
  }

  append(writes: readonly PendingWrite[]): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(this.#unusable('append'))
    let bytes = 0
    for (const write of writes) {
      if (write.item !== null && write.item.id !== write.id) {
        return Promise.reject(
          new InvalidArgumentError(`logged write ${JSON.stringify(write.id)} carries an item of another id`),
        )
      }
      bytes += walEntryBytes(write)
    }
    if (writes.length === 0) return Promise.resolve()
    // Admission against the bound happens now, counting appends not committed yet, so a group can
    // never commit past `maxBytes` and a refused call never touches the file.
    const held = this.#bytes + this.#reservedBytes
    if (held + bytes > this.#maxBytes) return Promise.reject(new WalFullError(held, this.#maxBytes))
    this.#reservedBytes += bytes
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ writes, bytes, resolve, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(this.#commitScheduled)
      } else if (this.#gatherTimer !== undefined && this.#pending.length >= this.#lastGroup) {
        clearTimeout(this.#gatherTimer)
        this.#gatherTimer = undefined
        setImmediate(this.#commitGathered)
      }
    })
  }

  async read(afterSeq: number, limit: number): Promise<WalEntry[]> {
    const rows = await this.#page('entries', afterSeq, limit)
    return rows.map(toEntry)
  }

  async keys(afterSeq: number, limit: number): Promise<WalKey[]> {
    const rows = await this.#page('keys', afterSeq, limit)
    return rows.map((row) => ({ seq: row[0] as number, id: row[1] as string, version: row[2] as number }))
  }

  async readSeqs(seqs: readonly number[]): Promise<WalEntry[]> {
    this.#usable('read')
    this.#commitPending()
    for (const seq of seqs) {
      if (!Number.isSafeInteger(seq))
        throw new InvalidArgumentError(`seqs must be integers, got ${String(seq)}`)
    }
    const wanted = seqs.filter((seq) => seq > this.#removedThrough)
    const entries: WalEntry[] = []
    for (let start = 0; start < wanted.length; start += SEQS_PER_SELECT) {
      const chunk = wanted.slice(start, start + SEQS_PER_SELECT)
      const rows = this.#run(() => this.#sql.selectSeqs(chunk.length).all(...chunk) as WalRow[])
      for (const row of rows) entries.push(toEntry(row))
    }
    return entries.sort((a, b) => a.seq - b.seq)
  }

  /** Up to `limit` rows after `afterSeq` (and after the watermark), from the named page query. */
  async #page(statement: PageStatement, afterSeq: number, limit: number): Promise<WalRow[]> {
    this.#usable('read')
    if (typeof afterSeq !== 'number' || Number.isNaN(afterSeq)) {
      throw new InvalidArgumentError(`afterSeq must be a number, got ${String(afterSeq)}`)
    }
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new InvalidArgumentError(`limit must be a non-negative integer, got ${String(limit)}`)
    }
    this.#commitPending()
    if (limit === 0) return []
    const from = Math.max(afterSeq, this.#removedThrough)
    if (this.#reader && limit >= THREAD_READ_MIN_ROWS) {
      return this.#reader.query(statement, [from, limit]).catch((error: unknown) => {
        throw this.#failure('query failed', error)
      })
    }
    const select = statement === 'entries' ? this.#sql.selectAfter : this.#sql.selectKeysAfter
    return this.#run(() => select.all(from, limit) as WalRow[])
  }

  async remove(settled: readonly SettledWrite[]): Promise<void> {
    this.#usable('remove')
    this.#commitPending()
    if (settled.length === 0) return
    // One DELETE per id, with the highest version settled for it.
    const highest = new Map<string, number>()
    for (const { id, version } of settled) {
      const seen = highest.get(id)
      if (seen === undefined || version > seen) highest.set(id, version)
    }
    const removed = this.#run(() => this.#sql.removeSettled(highest))
    this.#entries -= removed.entries
    this.#bytes -= removed.bytes
  }

  async removeThrough(seq: number): Promise<void> {
    this.#usable('remove')
    if (typeof seq !== 'number' || Number.isNaN(seq)) {
      throw new InvalidArgumentError(`seq must be a number, got ${String(seq)}`)
    }
    this.#commitPending()
    if (seq <= this.#removedThrough) return
    const removed = this.#run(() => this.#sql.removeRange(seq))
    this.#removedThrough = removed.through
    this.#entries -= removed.entries
    this.#bytes -= removed.bytes
    this.#scheduleCompaction()
  }

  async latest(id: string): Promise<PendingWrite | undefined> {
    this.#usable('read')
    this.#commitPending()
    const row = this.#run(() => this.#sql.selectLatest.get(id, this.#removedThrough) as WalRow | undefined)
    return row === undefined ? undefined : toLoggedWrite(row)
  }

  stats(): WalStats {
    return { entries: this.#entries, bytes: this.#bytes, maxBytes: this.#maxBytes }
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return
    if (this.#state === 'open') this.#commitPending()
    this.#state = 'closed'
    clearTimeout(this.#gatherTimer)
    this.#gatherTimer = undefined
    // Rows left undeleted are deleted by the next open: the watermark is in the file.
    clearTimeout(this.#compactionTimer)
    this.#compactionTimer = undefined
    this.#db?.close()
    this.#db = undefined
    await this.#reader?.close()
  }

  /**
   * Commits every pending append in one transaction. If a value of one call is refused (it cannot
   * be bound or breaks a constraint), each call is retried in a transaction of its own, so that
   * call fails alone rather than taking its neighbours down with it. A failure of the file itself
   * (disk full, I/O error, locked) fails the whole group: retrying call by call would only repeat it.
   */
  #commitPending(): void {
    const group = this.#pending
    if (group.length === 0) return
    this.#pending = []
    this.#lastGroup = group.length
    this.#reservedBytes = 0
    try {
      this.#committed(this.#sql.insertGroup(group))
      for (const call of group) call.resolve()
    } catch (error) {
      if (group.length === 1 || !isRefusedValue(error)) {
        const failure = this.#failure('append failed', error)
        for (const call of group) call.reject(failure)
        return
      }
      for (const call of group) {
        try {
          this.#committed(this.#sql.insertGroup([call]))
          call.resolve()
        } catch (callError) {
          call.reject(this.#failure('append failed', callError))
        }
      }
    }
  }

  #scheduleCompaction(): void {
    if (this.#compactionTimer !== undefined || this.#state !== 'open') return
    this.#compactionTimer = setTimeout(this.#compactionStep, COMPACTION_PAUSE_MS)
    // Pending deletes of removed rows never keep a process alive.
    this.#compactionTimer.unref?.()
  }

  /** Deletes one step of removed rows; schedules the next while any are left. */
  #compact(): void {
    if (this.#state !== 'open') return
    try {
      if (this.#sql.deleteRemovedRows() === COMPACTION_STEP_ROWS) this.#scheduleCompaction()
    } catch {
      // The rows stay (removed all the same: reads skip them); the next removeThrough or open retries.
    }
  }

  #committed(added: Counts): void {
    this.#commits++
    this.#entries += added.entries
    this.#bytes += added.bytes
  }

  #usable(operation: string): void {
    if (this.#state !== 'open') throw this.#unusable(operation)
  }

  #run<T>(query: () => T): T {
    try {
      return query()
    } catch (error) {
      throw this.#failure('query failed', error)
    }
  }

  #unusable(operation: string): Error {
    const state = this.#state === 'new' ? 'not open yet' : 'closed'
    return new BackendError('wal', `the write-ahead log ${this.#path} is ${state}: cannot ${operation}`)
  }

  /** A failure of the log's own file: a backend error (retryable, HTTP 503), never the caller's. */
  #failure(what: string, error: unknown): Error {
    if (error instanceof BackendError || error instanceof LogTargetMismatchError) return error
    return new BackendError('wal', `write-ahead log ${this.#path}: ${what}: ${(error as Error).message}`, {
      cause: error,
    })
  }
}

/**
 * Whether an append failed on a value of its own rather than on the file: better-sqlite3 throws a
 * TypeError / RangeError for a value it cannot bind, SQLite a constraint or size error for one it
 * cannot store.
 */
function isRefusedValue(error: unknown): boolean {
  if (!(error instanceof Database.SqliteError))
    return error instanceof TypeError || error instanceof RangeError
  return /^SQLITE_(CONSTRAINT|TOOBIG|MISMATCH|RANGE)/.test(error.code)
}

export function createSqliteWriteAheadLog(options: SqliteWriteAheadLogOptions): SqliteWriteAheadLog {
  return new SqliteWriteAheadLog(options)
}
