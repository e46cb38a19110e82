/** The API path of an item. */
export function itemPath(id: string): string {
  return `/v1/items/${encodeURIComponent(id)}`
}
