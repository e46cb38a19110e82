import { type L3Store, SyncItem } from '@sync-engine/core/internal'

/** An item for the differential tests: its id and JSON value (undefined: deleted). */
export interface TestItem {
  readonly id: string
  readonly value: unknown
}

/** Writes items through the store: its write path keeps the side tables of its indexes. */
export async function writeIndexed(
  store: Pick<L3Store, 'write'>,
  items: readonly TestItem[],
  version: number,
): Promise<void> {
  const records = items.map((item, n) => {
    const v = version + n
    if (item.value === undefined) {
      return {
        id: item.id,
        version: v,
        updatedAt: 1,
        hash: '',
        state: 'default',
        contentType: 'binary' as const,
        mime: '',
        content: null,
        tombstone: true,
      }
    }
    return { ...SyncItem.fromJson(item.id, item.value).withVersion(v, 1), tombstone: false }
  })
  await store.write(records)
}
