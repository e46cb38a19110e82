import { isLive, type RecordHead } from '../l3/stored-record.ts'
import { matchesQuery } from './evaluate-query.ts'
import type { IndexDefinition } from './index-definition.ts'
import { type MergedPage, mergeRanked, positionOfHit, type RankedHit } from './merge-ranked.ts'
import type { PendingWrite, PendingWrites } from './pending-writes.ts'
import type { SearchPosition } from './search-cursor.ts'
import { comparePositions } from './search-order.ts'
import { projectValue, sortValueOf } from './search-projection.ts'
import type { SearchRequest } from './search-query.ts'

/**
 * The pending writes the backend's tier does not hold yet (L3, or L2 for RediSearch): those newer
 * than the version it has of their id (by `heads`, read after the writes were taken). The others
 * are done; their sources forget them.
 */
export function newerThanStored(
  writes: readonly PendingWrite[],
  heads: ReadonlyMap<string, RecordHead>,
  pending: PendingWrites,
): PendingWrite[] {
  return writes.filter((write) => {
    const stored = heads.get(write.id)
    if (stored === undefined || stored.version < write.version) return true
    pending.settled(write.id, stored.version)
    return false
  })
}

/**
 * A stored page with this engine's pending writes merged in: the stored items of pending ids give
 * way to their pending version (`hits`: those that match), in the result order, never past where
 * the stored page ended while it has more.
 */
export function withPending<T extends RankedHit>(
  stored: { readonly items: readonly T[]; readonly more: boolean },
  pending: readonly PendingWrite[],
  hits: readonly T[],
  limit: number,
  sorted: boolean,
  order: 'asc' | 'desc',
): MergedPage<T> {
  const replaced = new Set(pending.map((write) => write.id))
  const end = stored.items.at(-1)
  return mergeRanked(
    [
      {
        items: stored.items.filter((item) => !replaced.has(item.id)),
        more: stored.more,
        ...(end && { end }),
      },
      { items: hits, more: false },
    ],
    limit,
    sorted,
    order,
  )
}

/** The live item of a pending write at `now`, if it is one (a delete or an expired item is not). */
function liveItem(write: PendingWrite, now: number) {
  if (write.item === null) return undefined
  return write.expiresAt === 0 || write.expiresAt > now ? write.item : undefined
}

/**
 * The reference evaluator over pending writes: the live JSON items under the index's prefix whose
 * projection matches, each with its sort value, after the cursor's position.
 */
export function pendingSearchHits(
  definition: IndexDefinition,
  request: SearchRequest,
  writes: readonly PendingWrite[],
  position: SearchPosition | undefined,
  now: number,
): RankedHit[] {
  const sortField = request.sort?.field
  const order = request.sort?.order ?? 'asc'
  const hits: RankedHit[] = []
  for (const write of writes) {
    const item = liveItem(write, now)
    if (item === undefined || item.contentType !== 'json' || !write.id.startsWith(definition.prefix)) continue
    const projection = projectValue(definition, item.json())
    if (!matchesQuery(request.query, projection)) continue
    const hit: RankedHit = {
      id: write.id,
      version: write.version,
      ...(sortField !== undefined && { sortValue: sortValueOf(projection, sortField) ?? null }),
    }
    if (
      position === undefined ||
      comparePositions(positionOfHit(hit, sortField !== undefined), position, order) > 0
    ) {
      hits.push(hit)
    }
  }
  return hits
}

export interface ListedItem extends RankedHit {
  readonly state: string
}

/** Pending writes as a listing's items: live, under the prefix, with the state, after `afterId`. */
export function pendingListing(
  query: { readonly prefix: string; readonly state?: string; readonly afterId?: string },
  writes: readonly PendingWrite[],
  now: number,
): ListedItem[] {
  const items: ListedItem[] = []
  for (const write of writes) {
    const item = liveItem(write, now)
    if (item === undefined || !write.id.startsWith(query.prefix)) continue
    if (query.state !== undefined && item.state !== query.state) continue
    const hit = { id: write.id, version: write.version, state: item.state }
    if (query.afterId === undefined || comparePositions(hit, { id: query.afterId }, 'asc') > 0)
      items.push(hit)
  }
  return items
}

/** Whether a stored record counts in a listing with `state` at `now`. */
export function storedCounts(
  record: (RecordHead & { readonly state: string }) | undefined,
  state: string | undefined,
  now: number,
): boolean {
  return isLive(record, now) && (state === undefined || record.state === state)
}

/** Whether a pending write counts in a listing with `state` at `now`. */
export function pendingCounts(write: PendingWrite, state: string | undefined, now: number): boolean {
  const item = liveItem(write, now)
  return item !== undefined && (state === undefined || item.state === state)
}
