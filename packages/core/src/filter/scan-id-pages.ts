import type { L3Store } from '../l3/l3-store.ts'

export interface ScanIdPagesOptions {
  /** Ids per query. Default 10,000. */
  pageSize?: number
  /** Only ids under this prefix. */
  prefix?: string
}

const DEFAULT_PAGE_SIZE = 10_000

/**
 * Every live L3 id, a page at a time, by keyset pagination: each query asks for ids after the last
 * one seen, so every page is an index range scan, where OFFSET would rescan all skipped rows and
 * make a full scan quadratic. The order is the store's (its collation), so this never compares ids
 * itself; it only refuses a page that ends where the last one did, which would otherwise loop.
 *
 * Rows written while the scan runs may or may not be seen (those behind the cursor are not): a
 * filter built this way must also be given the writes made during the build.
 */
export async function* scanIdPages(
  store: Pick<L3Store, 'scanIds'>,
  options: ScanIdPagesOptions = {},
): AsyncGenerator<string[], void, undefined> {
  const limit = options.pageSize ?? DEFAULT_PAGE_SIZE
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`pageSize must be a positive integer, got ${limit}`)
  }
  let after: string | undefined
  for (;;) {
    const page = await store.scanIds({
      limit,
      ...(after !== undefined && { after }),
      ...(options.prefix !== undefined && { prefix: options.prefix }),
    })
    const last = page[page.length - 1]
    if (last === undefined) return
    if (last === after) throw new Error(`L3 scanIds returned a page ending at the cursor "${after}"`)
    yield page
    // A short page is the last one: skip the query that would return nothing.
    if (page.length < limit) return
    after = last
  }
}
