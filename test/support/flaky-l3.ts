import {
  BackendError,
  type L3Store,
  type L3WriteOptions,
  type L3WriteResult,
  type StoredRecord,
} from '@sync-engine/core'

/**
 * Wraps a real L3 store and makes its next `failWrites` writes throw a `BackendError` without
 * touching the database — an L3 outage as the engine sees it. While `down`, every call throws
 * (the server is unreachable). Everything else passes through, searches included (they are
 * not made to fail: tests search once L3 is back).
 */
export class FlakyL3 implements L3Store {
  failWrites = 0
  failedWrites = 0
  down = false
  /** Writes that reached the real store. */
  writes = 0

  constructor(private readonly inner: L3Store) {}

  get dialect() {
    return this.inner.dialect
  }
  get driver() {
    return this.inner.driver
  }
  get capabilities() {
    return this.inner.capabilities
  }
  get identity() {
    return this.inner.identity
  }
  get search() {
    return this.inner.search
  }
  #check() {
    if (this.down) throw new BackendError('l3', 'injected outage: unreachable')
  }
  async init() {
    this.#check()
    return this.inner.init()
  }
  async write(records: readonly StoredRecord[], options?: L3WriteOptions): Promise<L3WriteResult> {
    this.#check()
    this.writes++
    if (this.failWrites > 0) {
      this.failWrites--
      this.failedWrites++
      throw new BackendError('l3', 'injected outage')
    }
    return this.inner.write(records, options)
  }
  async read(ids: readonly string[]) {
    this.#check()
    return this.inner.read(ids)
  }
  async head(ids: readonly string[]) {
    this.#check()
    return this.inner.head(ids)
  }
  scanIds(options: { after?: string; limit: number; prefix?: string; now?: number }) {
    return this.inner.scanIds(options)
  }
  async maxVersion() {
    this.#check()
    return this.inner.maxVersion()
  }
  count() {
    return this.inner.count()
  }
  purgeTombstones(olderThanMs: number) {
    return this.inner.purgeTombstones(olderThanMs)
  }
  purgeExpired(now: number) {
    return this.inner.purgeExpired(now)
  }
  async ping() {
    this.#check()
    return this.inner.ping()
  }
  close() {
    return this.inner.close()
  }
}
