import { type Config, type Connection, connect, type Transaction } from '@planetscale/database'
import {
  BackendError,
  runInOrder,
  type SqlResult,
  type SqlStatement,
  type SqlTransport,
} from '@sync-engine/core'
import { Deadline, sleep } from './deadline.ts'
import { isRetryable, toSyncError } from './planetscale-errors.ts'
import { formatQuery } from './planetscale-format.ts'
import { type PlanetScaleOptions, planetScaleEndpoint } from './planetscale-options.ts'
import { castValue, toSqlResult } from './planetscale-values.ts'
import { type Fetch, platformFetch } from './web-platform.ts'

const DEFAULT_TIMEOUT_MS = 10_000
/** Runs of one call: the first, and retries after a deadlock or a network failure. */
const MAX_ATTEMPTS = 4
/** Headroom under max_allowed_packet for what the estimate leaves out (the JSON envelope is not sent to MySQL). */
const PACKET_HEADROOM = 1024

/**
 * `@planetscale/database` (PlanetScale's HTTP API) as a `SqlTransport` of the mysql dialect: the
 * same SQL as mysql2, over fetch, for Workers and Lambda.
 *
 * - The client formats parameters into the SQL text itself (`?` → `'escaped'`, bytes → `x'hex'`,
 *   bigints and numbers as digits, null as `null`): no prepared statements, no binary protocol.
 *   Bytes go through `formatQuery`, which writes their hex faster than the client does.
 *   Results come back through `castValue` (exact integers, JSON as text, bytes as Uint8Array).
 * - Each call gets a `Connection` of its own: the client keeps the Vitess session on it and
 *   overwrites it with every answer, so sharing one between concurrent calls would mix sessions.
 *   Connections are only objects here; HTTP keep-alive is the fetch's business.
 * - `runAtomically` runs through `transaction()` (BEGIN … COMMIT on one pinned session). There is
 *   no session state outside a transaction, so, unlike mysql2, nothing is SET per connection:
 *   isolation, lock wait and sql_mode are the server's (PlanetScale: READ COMMITTED is not the
 *   default, so concurrent upserts deadlock more often; they are retried).
 * - Every call has a deadline, retries included: an AbortSignal on each request, and a race in
 *   case the fetch ignores it. A transaction that fails (or passes its deadline) is still rolled
 *   back, under a fresh deadline, so the server does not hold its locks until it times out.
 */
export class PlanetScaleTransport implements SqlTransport {
  readonly driver = 'planetscale'
  readonly dialect = 'mysql' as const
  readonly target: string
  readonly #config: Config
  readonly #fetch: Fetch
  readonly #timeoutMs: number
  readonly #secrets: readonly string[]
  #maxStatementBytes: number | undefined
  #connecting: Promise<void> | undefined
  #closed = false

  constructor(options: PlanetScaleOptions) {
    const endpoint = planetScaleEndpoint(options)
    this.target = endpoint.target
    this.#secrets = endpoint.secrets
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const fetch = options.fetch ?? platformFetch()
    if (fetch === undefined) throw new BackendError('l3', 'planetscale: this platform has no fetch; pass one')
    this.#fetch = fetch
    this.#config = { ...endpoint.config, cast: castValue, format: formatQuery }
  }

  /** Every call's deadline (`timeoutMs`): what a catalog change waits for besides the refresh. */
  get deadlineMs(): number {
    return this.#timeoutMs
  }

  get maxStatementBytes(): number | undefined {
    return this.#maxStatementBytes
  }

  /** Checks that the server answers and learns its packet limit, once. */
  connect(): Promise<void> {
    this.#connecting ??= this.#learnLimits().catch((error: unknown) => {
      this.#connecting = undefined
      throw error
    })
    return this.#connecting
  }

  async #learnLimits(): Promise<void> {
    const { rows } = await this.run({ sql: 'SELECT @@max_allowed_packet AS packet', params: [] })
    // The store prices a parameter at its bytes plus 11; formatted into the text, bytes become hex
    // (2 characters a byte) and an escaped string at most doubles (`'` → `''`, `\` → `\\`), while
    // the estimate's 11 bytes pay for the quotes. So the text is at most twice the estimate.
    this.#maxStatementBytes = Math.floor((Number(rows[0]?.packet) - PACKET_HEADROOM) / 2)
  }

  run(statement: SqlStatement): Promise<SqlResult> {
    return this.#withRetries((connection) => this.#send(connection, statement))
  }

  runAtomically(statements: readonly SqlStatement[]): Promise<SqlResult[]> {
    return this.#withRetries((connection, deadline) => {
      let failure: unknown
      const work = connection
        .transaction(async (tx) => {
          try {
            // One at a time, in order: the next must not run after one failed.
            return await runInOrder(statements, (statement) => this.#send(tx, statement))
          } catch (error) {
            failure = error
            // The client now sends ROLLBACK on this connection: give it time of its own.
            deadline.extendForRollback()
            throw error
          }
        })
        // The statement's own error, not the ROLLBACK's, if that failed too (a dead network).
        .catch((error: unknown) => {
          throw failure ?? error
        })
      // Only once the ROLLBACK is done too, even if the call's race gave up on it already.
      work.then(
        () => deadline.dispose(),
        () => deadline.dispose(),
      )
      return work
    })
  }

  close(): Promise<void> {
    // Nothing to end: every request is its own HTTP call. Later calls are refused.
    this.#closed = true
    return Promise.resolve()
  }

  async #send(connection: Connection | Transaction, statement: SqlStatement): Promise<SqlResult> {
    // No parameters: no formatting pass (DDL, BEGIN), and a literal `?` in the SQL stays one.
    const args = statement.params.length === 0 ? null : (statement.params as unknown[])
    return toSqlResult(await connection.execute(statement.sql, args))
  }

  async #withRetries<T>(work: (connection: Connection, deadline: CallDeadline) => Promise<T>): Promise<T> {
    if (this.#closed) throw new BackendError('l3', 'planetscale: the transport is closed')
    const deadline = Deadline.after(this.#timeoutMs)
    try {
      for (let attempt = 1; ; attempt++) {
        const call = new CallDeadline(deadline, this.#timeoutMs)
        try {
          const connection = connect({ ...this.#config, fetch: call.fetchVia(this.#fetch) })
          return await deadline.race(work(connection, call))
        } catch (error) {
          const again = attempt < MAX_ATTEMPTS && isRetryable(error) && !deadline.passed
          if (!again) throw toSyncError(error, this.#secrets)
          // Deadlocked writers would meet again if they retried in step.
          await sleep(Math.min(deadline.at - Date.now(), 5 + Math.random() * 20 * attempt))
        }
      }
    } finally {
      deadline.dispose()
    }
  }
}

/**
 * The deadline one attempt's requests carry: the call's, until a failed transaction's ROLLBACK,
 * which gets a fresh one (the call's may be what just passed).
 */
class CallDeadline {
  #current: Deadline
  #rollback: Deadline | undefined

  constructor(
    call: Deadline,
    private readonly timeoutMs: number,
  ) {
    this.#current = call
  }

  extendForRollback(): void {
    this.#rollback ??= Deadline.after(this.timeoutMs)
    this.#current = this.#rollback
  }

  /** Clears the rollback's timer (the call's own is the caller's). */
  dispose(): void {
    this.#rollback?.dispose()
  }

  fetchVia(base: Fetch): Fetch {
    return (input, init) => this.#current.fetchVia(base)(input, init)
  }
}
