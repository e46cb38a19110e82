import {
  decodeCursor,
  encodeCursor,
  type IndexDefinition,
  type SearchPage,
  type SearchPosition,
  type SearchRequest,
  type SearchSqlDialect,
  type SqlStore,
  type SqlTransport,
  SyncItem,
  searchStatement,
} from '@sync-engine/core/internal'

/** An item for the differential tests: its id and JSON value (undefined: deleted). */
export interface TestItem {
  readonly id: string
  readonly value: unknown
}

/** Writes items through the store: its write path keeps the side tables of its indexes. */
export async function writeIndexed(
  store: SqlStore,
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

/** One page of a search answered by SQL, with the cursor the engine will give out. */
export async function sqlPage(
  transport: SqlTransport,
  dialect: SearchSqlDialect,
  table: string,
  definition: IndexDefinition,
  request: SearchRequest,
  now = Date.now(),
): Promise<SearchPage> {
  const position =
    request.cursor === undefined
      ? undefined
      : decodeCursor(request.cursor, definition.name, request.query, request.sort)
  const result = await transport.run(searchStatement(dialect, table, definition, request, position, now))
  const rows = result.rows as { id: unknown; version: unknown; sort_value?: unknown }[]
  const page = rows.slice(0, request.limit)
  const text = (value: unknown) =>
    typeof value === 'string' ? value : new TextDecoder().decode(value as Uint8Array)
  const last = page.at(-1)
  let cursor: string | null = null
  if (rows.length > request.limit && last) {
    const at: SearchPosition =
      request.sort === undefined
        ? { id: text(last.id) }
        : {
            id: text(last.id),
            value: sortValue(last.sort_value, definition.fields[request.sort.field]?.type === 'numeric'),
          }
    cursor = encodeCursor(definition.name, request.query, request.sort, at)
  }
  return { items: page.map((row) => ({ id: text(row.id), version: Number(row.version) })), cursor }
}

function sortValue(value: unknown, numeric: boolean): number | string | null {
  if (value === null || value === undefined) return null
  if (numeric) return Number(value)
  return typeof value === 'string' ? value : new TextDecoder().decode(value as Uint8Array)
}
