import { encodeBase64, type SyncItem } from '@sync-engine/core'
import type { Problem } from '../problems/problem-details.ts'

export type BatchGetEntry =
  | { readonly id: string; readonly item: SyncItem }
  | { readonly id: string; readonly item: undefined }
  | { readonly id: string; readonly problem: Problem }

const decoder = new TextDecoder()

/**
 * The `batchGet` answer, written as JSON text by hand for one reason: a JSON item's stored bytes
 * are spliced in as its `value` instead of going through `JSON.parse` → `JSON.stringify`, which
 * would round integers above 2^53 and rewrite escapes. The stored bytes are already normalised,
 * valid JSON (the core guarantees it at ingest), so splicing them keeps the output valid.
 */
export function encodeBatchGetBody(entries: readonly BatchGetEntry[]): string {
  return `{"items":[${entries.map(encodeEntry).join(',')}]}`
}

function encodeEntry(entry: BatchGetEntry): string {
  if ('problem' in entry) return JSON.stringify({ id: entry.id, error: entry.problem })
  const item = entry.item
  if (item === undefined) return JSON.stringify({ id: entry.id, found: false })
  const fields = {
    id: item.id,
    found: true,
    version: item.version,
    contentType: item.contentType,
    mime: item.mime,
    state: item.state,
  }
  if (item.contentType === 'binary') return JSON.stringify({ ...fields, base64: encodeBase64(item.content) })
  const head = JSON.stringify(fields)
  return `${head.slice(0, -1)},"value":${decoder.decode(item.content)}}`
}
