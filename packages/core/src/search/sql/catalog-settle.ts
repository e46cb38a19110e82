/**
 * Waits until every other instance sharing the database has re-read the catalog (index
 * definitions, partitions): one refresh interval and a second's margin. Global `setTimeout`: the
 * wait is part of an admin call (define an index, register a partition), not of the engine's
 * timing, which goes through its Platform.
 */
export function afterCatalogRefresh(refreshMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    setTimeout(() => resolve(), refreshMs + 1_000)
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
