import type { StoredRecord } from './stored-record.ts'

export interface L3WriteResult {
  /** Rows inserted or replaced. */
  readonly applied: number
  /** Ids the version guard kept at a newer stored version (the write was older). */
  readonly stale: readonly string[]
  /**
   * Records that were not written because they cannot be stored (a value too long for its column,
   * content over `maxContentBytes`, data the server refuses), each with its typed error. Absent
   * when there are none. The other records of the write are unaffected.
   */
  readonly rejected?: ReadonlyMap<string, Error>
}

export interface L3Capabilities {
  /** An upsert's affected-row count tells whether the version guard skipped a row (no extra query). */
  readonly exactChangeCount: boolean
  /** Largest number of rows one upsert statement carries. */
  readonly maxRowsPerStatement: number
  /**
   * Largest content one record can carry (MySQL: bounded by the server's max_allowed_packet),
   * known once `init()` has connected. Absent when the store sets no limit of its own.
   */
  readonly maxContentBytes?: number
}

/** L3, the ground truth: what the engine needs from SQL, whatever the dialect or driver. */
export interface L3WriteOptions {
  /**
   * Report the ids the version guard kept a newer version of (`stale`). Default true. False lets a
   * store skip the work of finding them (MySQL reads the versions back): for callers that
   * invalidate their caches instead, such as a log drain.
   */
  readonly reportStale?: boolean
}

export interface L3Store {
  readonly dialect: string
  readonly driver: string
  readonly capabilities: L3Capabilities
  /** Creates the schema if it is missing. */
  init(): Promise<void>
  /**
   * Version-guarded upsert of items and tombstones, atomically. Ids must be distinct. Records that
   * cannot be stored are returned in `rejected`, never sent, and do not stop the others.
   */
  write(records: readonly StoredRecord[], options?: L3WriteOptions): Promise<L3WriteResult>
  /** Records for the ids that have one, tombstones included. */
  read(ids: readonly string[]): Promise<Map<string, StoredRecord>>
  /** Ids in order after `after` (keyset pagination), live items only, optionally under a prefix. */
  scanIds(options: { after?: string; limit: number; prefix?: string }): Promise<string[]>
  /** The highest version stored, tombstones included (seeds the clock at start); 0 when empty. */
  maxVersion(): Promise<number>
  /** Live items stored. */
  count(): Promise<number>
  /** Removes tombstones last written before `olderThanMs`; returns how many. */
  purgeTombstones(olderThanMs: number): Promise<number>
  /** A cheap round trip, for health checks. */
  ping(): Promise<void>
  close(): Promise<void>
}
