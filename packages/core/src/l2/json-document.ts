import type { StoredRecord } from '../l3/stored-record.ts'
import { searchProjectionDocument } from '../search/redisearch/search-projection-document.ts'
import { RedisScript } from './redis-script.ts'

/*
 * ── RedisJSON search documents: used only when the server has RedisJSON (Redis 8, Redis Stack).
 * ── Not exercised by the local tests: the Redis 7.0 here has no modules.
 *
 * Decision: reads always use the envelope (`i:` key), which keeps the exact bytes. RedisJSON
 * re-serialises what it stores (key order, number forms, whitespace), so a document cannot give
 * the bytes back and the hash would stop matching (the Rust original's defect). When
 * the server has RedisJSON, each write ALSO keeps a document at `<prefix>j:<id>` for search:
 *
 *   { v: version, u: updatedAt, h: hash, s: state, m: mime, t: 0|1, d: <the JSON content> | null,
 *     x: <the search projection of the content> | null }
 *
 * `d` is null for binary items and tombstones; the document still exists so that its version
 * guards against a delayed older JSON write. It is written by its own single-key script in the
 * same pipeline as the envelope rather than by the envelope's script: a script touching `i:` and
 * `j:` keys would need both in one cluster slot. Both scripts apply the same version order and the
 * same TTL, so they converge.
 *
 * `x` is what RediSearch indexes (search/redisearch/search-projection-document.ts): the content
 * pre-normalised for every index at once — tags and words as term codes, numbers as integer key
 * halves, the id's code and the expiry — so RediSearch answers as the reference evaluator does.
 * RediSearch never indexes `d`: its raw values would make it tokenise, fold case and drop whole
 * documents on a type mismatch. Null wherever `d` is (a tombstone or binary item has no fields).
 */

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The document text. JSON content is spliced in as its bytes (already valid, normalised JSON). */
export function jsonDocumentText(record: StoredRecord): string {
  const json = !record.tombstone && record.contentType === 'json' && record.content !== null
  const document = json ? decoder.decode(record.content!) : 'null'
  const projection = json
    ? JSON.stringify(searchProjectionDocument(record.id, JSON.parse(document), record.expiresAt ?? 0))
    : 'null'
  return (
    `{"v":${record.version},"u":${record.updatedAt},"h":${JSON.stringify(record.hash)},` +
    `"s":${JSON.stringify(record.state)},"m":${JSON.stringify(record.mime)},` +
    `"t":${record.tombstone ? 1 : 0},"d":${document},"x":${projection}}`
  )
}

export function jsonDocumentBytes(record: StoredRecord): Uint8Array {
  return encoder.encode(jsonDocumentText(record))
}

/**
 * KEYS[1] document key · ARGV[1] version · ARGV[2] document text · ARGV[3] TTL ms, '0' for none ·
 * ARGV[4] '1' to also replace the same version (repair).
 * Returns 1 written, 0 kept (same or newer version stored), -2 document rejected by RedisJSON
 * (then no document is kept: search misses the item, reads are unaffected).
 */
export const jsonDocumentScript = new RedisScript(`
local incoming = tonumber(ARGV[1])
local current = redis.pcall('JSON.GET', KEYS[1], 'v')
if type(current) == 'table' then
  redis.call('DEL', KEYS[1])
elseif current then
  local stored = tonumber(current)
  if stored and (stored > incoming or (stored == incoming and ARGV[4] ~= '1')) then return 0 end
end
local set = redis.pcall('JSON.SET', KEYS[1], '$', ARGV[2])
if type(set) == 'table' and set.err then
  redis.call('DEL', KEYS[1])
  return -2
end
if ARGV[3] == '0' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
`)
