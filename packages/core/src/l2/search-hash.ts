import type { StoredRecord } from '../l3/stored-record.ts'
import { searchProjectionDocument } from '../search/redisearch/search-projection-document.ts'
import { HASH_VERSION_FIELD, searchProjectionHash } from '../search/redisearch/search-projection-hash.ts'
import { RedisScript } from './redis-script.ts'
import type { RedisArgument } from './redis-transport.ts'

/*
 * ── Search projection hashes: used only when the server has the query engine but not RedisJSON.
 *
 * Without RedisJSON there is no `j:` document to index, so each write keeps the same search
 * projection flattened into a hash at `<prefix>{<shard>}h:<id>` (search-projection-hash.ts), which
 * FT.CREATE … ON HASH indexes. Like the document it is written by its own single-key script in the
 * same pipeline as the envelope (a script touching `i:` and `h:` keys would need both in one
 * cluster slot), with the same version order and the same TTL, so the two converge. A tombstone or
 * a binary item keeps a hash holding only its version: no projection fields, so it never matches,
 * and a delayed older write cannot bring the item back to search.
 *
 * Reads never use it: it holds codes, not content.
 */

/** ARGV of the script for one record: version, TTL ms ('0' none), repair flag, then the fields. */
export function searchHashArguments(record: StoredRecord, ttlMs: number, repair: boolean): RedisArgument[] {
  const json = !record.tombstone && record.contentType === 'json' && record.content !== null
  const projection = json
    ? searchProjectionDocument(
        record.id,
        JSON.parse(new TextDecoder().decode(record.content!)),
        record.expiresAt ?? 0,
      )
    : null
  return [record.version, ttlMs, repair ? 1 : 0, ...searchProjectionHash(projection)]
}

/** HSET pairs per call: Lua's `unpack` is bounded by the C stack (LUAI_MAXCSTACK, 8000). */
const PAIRS_PER_HSET = 100

/**
 * KEYS[1] hash key · ARGV[1] version · ARGV[2] TTL ms, '0' for none · ARGV[3] '1' to also replace
 * the same version (repair) · ARGV[4..] field, value pairs.
 * Returns 1 written, 0 kept (same or newer version stored). A key of another type, or a hash
 * without a numeric version, is not ours to keep: it is replaced.
 *
 * The old hash is deleted before the new fields are set, so no field of an older version (a path
 * the content no longer has) survives; the script is atomic, so no search sees the gap.
 */
export const searchHashScript = new RedisScript(`
local incoming = tonumber(ARGV[1])
local current = redis.pcall('HGET', KEYS[1], '${HASH_VERSION_FIELD}')
if type(current) == 'table' and current.err then
  current = nil
elseif current then
  local stored = tonumber(current)
  if stored and (stored > incoming or (stored == incoming and ARGV[3] ~= '1')) then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '${HASH_VERSION_FIELD}', ARGV[1])
for at = 4, #ARGV, ${PAIRS_PER_HSET * 2} do
  redis.call('HSET', KEYS[1], unpack(ARGV, at, math.min(at + ${PAIRS_PER_HSET * 2 - 1}, #ARGV)))
end
if ARGV[2] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
`)
