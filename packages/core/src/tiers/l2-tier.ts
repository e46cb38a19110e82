import type { Logger } from '../engine/logger.ts'
import { sha256Hex } from '../item/content-hash.ts'
import { isCorrupt } from '../l2/corrupt-value.ts'
import type { L2Store, L2WriteEntry, L2WriteResult } from '../l2/l2-store.ts'
import type { RecordHead, StoredRecord } from '../l3/stored-record.ts'
import { CircuitOpenError } from '../resilience/circuit-open-error.ts'
import type { BackgroundScope } from '../runtime/background-scope.ts'
import { describe } from '../write/write-failures.ts'
import type { GuardedCall } from './guarded-call.ts'
import { StaleL2Copies } from './stale-l2-copies.ts'
import { TierConnection } from './tier-connection.ts'

/** Ids per reconciliation delete. */
const RECONCILE_BATCH = 5_000

/**
 * L2 as the engine uses it, owning its error policy: every call through its breaker; a read that
 * fails or is refused is a miss (counted, L3 answers); a corrupt value is a miss too (counted,
 * deleted so the back-fill from L3 can replace it); ids whose L2 copy may be older than an
 * acknowledged write (`staleCopies`) are not read from L2 until reconciliation deleted that copy.
 */
export class L2Tier {
  readonly connection: TierConnection
  /** Ids whose L2 copy may be older than an acknowledged write: not read from L2 until reconciled. */
  readonly staleCopies = new StaleL2Copies()
  /** L2 values that could not be decoded (or failed their hash on a verified read). */
  corruptReads = 0
  /** L2 reads that failed or were refused by the open circuit. */
  failedReads = 0

  constructor(
    readonly store: L2Store,
    readonly guard: GuardedCall,
    private readonly logger: Logger,
    /** What follows a connect made after start (the RediSearch indexes, which need the server's capabilities). */
    afterInit?: () => Promise<void>,
  ) {
    this.connection = new TierConnection(guard, () => store.init(), afterInit)
  }

  /** Connected, and its circuit not open: worth asking. */
  get usable(): boolean {
    return this.connection.connected && !this.guard.open
  }

  /** Whether reads may use L2's copy of `id`. */
  readable(id: string): boolean {
    return this.staleCopies.size === 0 || !this.staleCopies.has(id)
  }

  /**
   * L2's records (items and tombstones, expired ones included: the caller decides) for the ids it
   * may be read for. `verify` re-hashes content, and a mismatch counts as corrupt.
   */
  async read(ids: readonly string[], verify = false): Promise<Map<string, StoredRecord>> {
    const asked = this.#askable(ids)
    if (asked.length === 0) return new Map()
    let values: Awaited<ReturnType<L2Store['read']>>
    try {
      values = await this.guard.run('read', () => this.store.read(asked))
    } catch (error) {
      this.#readFailed(error)
      return new Map()
    }
    let corrupt: string[] | undefined
    for (const [id, value] of values) {
      if (isCorrupt(value)) corrupt = this.#corrupt(corrupt, id, value.reason)
      else if (verify && value.content !== null && sha256Hex(value.content) !== value.hash) {
        corrupt = this.#corrupt(corrupt, id, 'content does not match its hash')
      }
    }
    if (corrupt === undefined) return values as Map<string, StoredRecord>
    for (const id of corrupt) values.delete(id)
    await this.#dropCorrupt(corrupt)
    return values as Map<string, StoredRecord>
  }

  /** Like `read` without content: for existence checks. A damaged value is a miss. */
  async head(ids: readonly string[]): Promise<Map<string, RecordHead>> {
    const heads = new Map<string, RecordHead>()
    const asked = this.#askable(ids)
    if (asked.length === 0) return heads
    try {
      const values = await this.guard.run('head', () => this.store.head(asked))
      for (const [id, value] of values) if (!isCorrupt(value)) heads.set(id, value)
    } catch (error) {
      this.#readFailed(error)
    }
    return heads
  }

  write(entries: readonly L2WriteEntry[]): Promise<L2WriteResult> {
    return this.guard.run('write', () => this.store.write(entries))
  }

  delete(ids: readonly string[]): Promise<number> {
    return this.guard.run('delete', () => this.store.delete(ids))
  }

  /**
   * Writes L3's records back to L2 in the background (version-guarded, so never over a newer
   * write; each with the TTL it has left). The work is handed to the request's scope.
   */
  backfill(records: readonly StoredRecord[], now: number, scope: BackgroundScope): void {
    if (records.length === 0 || !this.connection.connected || !this.guard.closed) return
    const entries: L2WriteEntry[] = []
    for (const record of records) {
      const expiresAt = record.expiresAt ?? 0
      if (expiresAt !== 0 && expiresAt <= now) continue
      entries.push(
        expiresAt === 0 ? { record, repair: true } : { record, repair: true, ttlMs: expiresAt - now },
      )
    }
    if (entries.length === 0) return
    scope.waitUntil(
      this.write(entries).then(
        () => {},
        (error) => this.logger.warn({ err: describe(error) }, 'L2 back-fill failed'),
      ),
    )
  }

  /**
   * Deletes the L2 copy of every id whose stored write L2 missed, so L2 never serves a version
   * older than an acknowledged write; the next read back-fills it from L3.
   */
  async reconcile(): Promise<void> {
    const marks = this.staleCopies.entries()
    for (let start = 0; start < marks.length; start += RECONCILE_BATCH) {
      const chunk = marks.slice(start, start + RECONCILE_BATCH)
      await this.delete(chunk.map(([id]) => id))
      for (const [id, version] of chunk) this.staleCopies.clearUpTo(id, version)
    }
    this.logger.info({ ids: marks.length }, 'L2 reconciled after an outage')
  }

  /** Every id L2 holds an entry for (items and tombstones), a page at a time, through the breaker. */
  async *scanIds(pageSize = 10_000): AsyncGenerator<string[], void, undefined> {
    let cursor: string | null | undefined
    do {
      const options = cursor ? { cursor, limit: pageSize } : { limit: pageSize }
      const page = await this.guard.run('scan', () => this.store.scanPrefix('', options))
      yield page.ids
      cursor = page.cursor
    } while (cursor)
  }

  ping(): Promise<void> {
    return this.guard.run('ping', () => this.store.ping())
  }

  /** Ids to ask L2 for: none until it is connected (an open circuit refuses, and that is counted). */
  #askable(ids: readonly string[]): readonly string[] {
    if (!this.connection.connected) return []
    return this.staleCopies.size === 0 ? ids : ids.filter((id) => !this.staleCopies.has(id))
  }

  #readFailed(error: unknown): void {
    this.failedReads++
    if (!(error instanceof CircuitOpenError)) {
      this.logger.warn({ err: describe(error) }, 'L2 read failed; reading L3')
    }
  }

  #corrupt(into: string[] | undefined, id: string, reason: string): string[] {
    this.corruptReads++
    this.logger.warn({ id, reason }, 'corrupt L2 value; served from L3 and repaired')
    const ids = into ?? []
    ids.push(id)
    return ids
  }

  /**
   * Drops damaged values before the back-fill: a value whose header still looks sound (say, a
   * forged higher version) would otherwise make the version guard refuse the repair forever.
   */
  async #dropCorrupt(ids: string[]): Promise<void> {
    await this.delete(ids).catch((error: unknown) =>
      this.logger.warn({ err: describe(error) }, 'dropping corrupt L2 values failed'),
    )
  }
}
