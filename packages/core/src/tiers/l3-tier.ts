import { BackendError, SyncError } from '../errors.ts'
import { scanIdPages } from '../filter/scan-id-pages.ts'
import type { L3Store, L3WriteOptions, L3WriteResult } from '../l3/l3-store.ts'
import type { RecordHead, StoredRecord } from '../l3/stored-record.ts'
import { describe } from '../write/write-failures.ts'
import type { GuardedCall } from './guarded-call.ts'
import { TierConnection } from './tier-connection.ts'

/** L3 has not been connected yet (the engine started without it): writes park, reads fail over. */
export class L3UnavailableError extends BackendError {
  constructor() {
    super('l3', 'not connected yet (the engine started without it); retried in the background')
  }
}

/**
 * L3, the ground truth, as the engine uses it, owning its error policy: every call through its
 * breaker; connected late when it was unreachable at start (a read need not wait for the
 * maintenance tick to find it back); the payload limit it imposes; failures as typed errors.
 */
export class L3Tier {
  readonly connection: TierConnection
  readonly #configuredLimit: () => number

  constructor(
    readonly store: L3Store,
    readonly guard: GuardedCall,
    options: {
      /** What follows a successful `init()`: seeding the clock, building the filter. */
      afterInit: () => Promise<void>
      /** The configured `maxPayloadBytes` (live: reconfigure may change it). */
      maxPayloadBytes: () => number
    },
  ) {
    this.connection = new TierConnection(guard, () => store.init(), options.afterInit)
    this.#configuredLimit = options.maxPayloadBytes
  }

  get connected(): boolean {
    return this.connection.connected
  }

  /** Not connected, or its circuit not closed: writes park in the log. */
  get unavailable(): boolean {
    return !this.connection.connected || !this.guard.closed
  }

  /**
   * The largest item accepted: the configured limit, or less where L3 cannot store that much in
   * one row (MariaDB's default max_allowed_packet is 16 MiB, a little under a 16 MiB item plus its
   * row). Known once L3 is connected.
   */
  get payloadLimit(): number {
    const configured = this.#configuredLimit()
    const l3Limit = this.store.capabilities.maxContentBytes
    return l3Limit !== undefined && l3Limit < configured ? l3Limit : configured
  }

  async read(ids: readonly string[]): Promise<Map<string, StoredRecord>> {
    return this.#typed(async () => {
      await this.connection.ensure()
      return this.guard.run('read', () => this.store.read(ids))
    })
  }

  async head(ids: readonly string[]): Promise<Map<string, RecordHead>> {
    return this.#typed(async () => {
      await this.connection.ensure()
      return this.guard.run('head', () => this.store.head(ids))
    })
  }

  /** Throws `L3UnavailableError` when not connected: the caller parks the writes. */
  write(records: readonly StoredRecord[], options?: L3WriteOptions): Promise<L3WriteResult> {
    if (!this.connection.connected) return Promise.reject(new L3UnavailableError())
    return this.guard.run('write', () => this.store.write(records, options))
  }

  maxVersion(): Promise<number> {
    return this.guard.run('version', () => this.store.maxVersion())
  }

  /** Every live id at `now`, a page at a time (keyset pagination), each page through the breaker. */
  scanIds(now: number): AsyncGenerator<string[], void, undefined> {
    return scanIdPages({
      scanIds: (options) => this.guard.run('scan', () => this.store.scanIds({ ...options, now })),
    })
  }

  purgeTombstones(olderThanMs: number): Promise<number> {
    return this.guard.run('purge', () => this.store.purgeTombstones(olderThanMs))
  }

  purgeExpired(now: number): Promise<number> {
    return this.guard.run('purge', () => this.store.purgeExpired(now))
  }

  ping(): Promise<void> {
    return this.guard.run('ping', () => this.store.ping())
  }

  async #typed<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (error) {
      throw error instanceof SyncError ? error : new BackendError('l3', describe(error), { cause: error })
    }
  }
}
