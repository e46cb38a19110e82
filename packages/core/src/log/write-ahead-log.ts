import type { QueuedWrite } from '../queue/queued-write.ts'

/**
 * A write not yet stored, as the log holds it: everything needed to replay it into the tiers after
 * a crash or an outage (the exact content bytes, version, route and absolute expiry). Conditional
 * writes (`condition`) are never logged.
 */
export type PendingWrite = Pick<
  QueuedWrite,
  'id' | 'version' | 'updatedAt' | 'item' | 'route' | 'expiresAt' | 'callerVersioned' | 'condition'
>

/** One log entry, in append order (`seq` increases with every append, never reused in a log). */
export interface WalEntry {
  readonly seq: number
  readonly write: PendingWrite
}

export interface WalStats {
  /** Entries now in the log. */
  readonly entries: number
  /** Bytes the entries hold (content + id + fixed overhead per entry); what `maxBytes` bounds. */
  readonly bytes: number
  /** The bound the log refuses appends beyond. */
  readonly maxBytes: number
}

/** Where an entry is: its seq, and the id and version of its write (no content). */
export interface WalKey {
  readonly seq: number
  readonly id: string
  readonly version: number
}

/** The version an entry settles: every logged entry of `id` at or below `version` may go. */
export interface SettledWrite {
  readonly id: string
  readonly version: number
}

/**
 * The durable write-ahead log (ack level `logged`): a local SQLite file on Node, an
 * outbox in Redis on serverless. The engine appends a write before acknowledging it as `logged`,
 * parks flushes here while L3 is unreachable, replays it at start and drains it when L3 returns.
 */
export interface WriteAheadLog {
  readonly driver: string
  /** Opens or creates the log. Entries left by an earlier process are kept for replay. */
  open(): Promise<void>
  /**
   * Ties the log to the L3 its writes are for (`L3Store.identity`). A log that holds entries for
   * another target rejects with `LogTargetMismatchError` and changes nothing; an empty log (or one
   * that recorded no target yet) takes this one.
   */
  bind(target: string): Promise<void>
  /** The target recorded by `bind`, if any. */
  readonly target: string | undefined
  /**
   * Appends the writes durably: resolves once they are committed (and synced to disk where the
   * implementation promises it). Appends issued in the same tick share one commit (group commit).
   * All or nothing per call: a call that would take the log past `maxBytes` rejects with
   * `WalFullError` and appends none of its writes.
   */
  append(writes: readonly PendingWrite[]): Promise<void>
  /** Up to `limit` entries with `seq > afterSeq`, oldest first. */
  read(afterSeq: number, limit: number): Promise<WalEntry[]>
  /**
   * Optional, with `readSeqs`: the keys of what `read` would return, without the writes. A drain
   * whose parked writes are still in memory reads only these (much cheaper than whole entries)
   * and fetches just the entries it does not hold.
   */
  keys?(afterSeq: number, limit: number): Promise<WalKey[]>
  /** Optional, with `keys`: the entries with these seqs that are still in the log, oldest first. */
  readSeqs?(seqs: readonly number[]): Promise<WalEntry[]>
  /** Removes, for each settled write, every entry of its id whose version is ≤ its version. */
  remove(settled: readonly SettledWrite[]): Promise<void>
  /**
   * Removes every entry with `seq ≤ seq`: a drain that stored everything it read up to there
   * (cheaper than `remove` by id: one range of the log, not one lookup per write).
   */
  removeThrough(seq: number): Promise<void>
  /** The newest logged write of `id` (highest version), or undefined. */
  latest(id: string): Promise<PendingWrite | undefined>
  /** Counters kept in memory (no I/O). */
  stats(): WalStats
  /** Commits what is pending and closes. Idempotent. */
  close(): Promise<void>
}
