/** What a transport that states no deadline (`SqlTransport.deadlineMs`) is taken to allow a call. */
export const ASSUMED_DEADLINE_MS = 10_000

/**
 * Waits until nothing planned with an older copy of the catalog (index definitions, partitions)
 * can still commit on a database other instances share: each instance re-reads the catalog once a
 * refresh interval, and re-checks it before every transaction it plans, so such a transaction
 * starts within `refreshMs` of the change and commits or is abandoned within the transport's
 * deadline after that; a second's margin on top. Global `setTimeout`: the wait is part of an
 * admin call (define an index, register a partition), not of the engine's timing, which goes
 * through its Platform.
 */
export function afterCatalogRefresh(refreshMs: number, deadlineMs: number | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    setTimeout(() => resolve(), refreshMs + (deadlineMs ?? ASSUMED_DEADLINE_MS) + 1_000)
  })
}

/**
 * Lets the event loop run between steps of a long admin job (a backfill): SQLite answers in the
 * same thread, so without it a backfill of a large table would hold every request (and /ready)
 * until it is done.
 */
export function yieldToRequests(): Promise<void> {
  return new Promise<void>((resolve) => {
    setTimeout(() => resolve(), 0)
  })
}
