import { BackendError, type L3Store, type L3WriteResult, type StoredRecord } from '@sync-engine/core'

/**
 * Wraps a real L3 store and makes its next `failWrites` writes throw a `BackendError` without
 * touching the database — an L3 outage as the engine sees it. Everything else passes through.
 */
export class FlakyL3 implements L3Store {
  failWrites = 0
  failedWrites = 0

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
  init() {
    return this.inner.init()
  }
  async write(records: readonly StoredRecord[]): Promise<L3WriteResult> {
    if (this.failWrites > 0) {
      this.failWrites--
      this.failedWrites++
      throw new BackendError('l3', 'injected outage')
    }
    return this.inner.write(records)
  }
  read(ids: readonly string[]) {
    return this.inner.read(ids)
  }
  scanIds(options: { after?: string; limit: number; prefix?: string }) {
    return this.inner.scanIds(options)
  }
  maxVersion() {
    return this.inner.maxVersion()
  }
  count() {
    return this.inner.count()
  }
  purgeTombstones(olderThanMs: number) {
    return this.inner.purgeTombstones(olderThanMs)
  }
  ping() {
    return this.inner.ping()
  }
  close() {
    return this.inner.close()
  }
}
