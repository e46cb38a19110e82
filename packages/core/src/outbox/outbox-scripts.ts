import { RedisScript } from '../l2/redis-script.ts'
import { UNTEXT_FUNCTION } from '../l2/text-wire.ts'
import { HEAD_FUNCTION } from '../l2/version-guard-script.ts'

/**
 * The outbox's Lua. One shard's keys, all under the shard's hash tag (one slot on a cluster):
 * KEYS[1] the stream of entries (entry id `0-<seq>`), KEYS[2] the seq counter, KEYS[3] the byte
 * count, then per script the keys below. No index by id: the flusher drains by range, and the
 * by-id operations of the log contract scan the stream (see OutboxShardLog). Versions are integers below 2^53: exact as Lua numbers, and written with
 * `%.0f` (tostring would round them to 14 digits).
 *
 * Stream entry fields, in this order (the readers index them): m — `bytes version updatedAt route
 * callerVersioned id`, one text (id last: it may hold spaces; the write's updatedAt apart from the
 * item's, which a log entry may carry stamped earlier), e — the L2 envelope of the write.
 */
/** KEYS before the item keys of an append: the shard's three keys and its target. */
export const OUTBOX_KEYS_PER_SHARD = 4
/** Arguments per write of the append script. */
export const APPEND_ARGS_PER_WRITE = 9
/** The append's modes: the item and its entry, the item only (cache-only), the entry only (the log's own append). */
export const MODE_BOTH = 'B'
export const MODE_CACHE = 'C'
export const MODE_LOG = 'L'
/** Per write of an append, in its reply: written (version is the one given to it) or refused as stale. */
export const APPEND_WRITTEN = 1
export const APPEND_STALE = 0

const OUTBOX_FUNCTIONS = `${HEAD_FUNCTION}
local function be64(n)
  local b = {}
  for i = 8, 1, -1 do
    b[i] = n % 256
    n = math.floor(n / 256)
  end
  return string.char(b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8])
end
local function with_version(envelope, version)
  return string.sub(envelope, 1, 4) .. be64(version) .. string.sub(envelope, 13)
end
local function counted(key)
  return tonumber(redis.call('GET', key) or '0')
end
`

/**
 * KEYS[4]: the shard's target (the L3 its entries are for); KEYS[5..]: the item key of each write.
 * ARGV[1]: the shard's byte bound; ARGV[2]: the writer's target ('' for none: the log's own
 * appends before a bind), refused with `{'mismatch', held}` when the shard holds another, taken
 * when it holds none — so an entry is never added for another database than the shard's. Then
 * per write: mode ·
 * version · envelope · TTL ms ('0': none) · caller versioned ('1'/'0') · bytes counted · route ·
 * id · updatedAt. All or nothing against the bound: `{'full', bytes, entries}` and nothing written. Otherwise
 * `{'ok', bytes, entries, status1, version1, live1, …}`.
 *
 * A write to L2 is given a version above the one the item key holds (clocks of instances differ:
 * a lagging one must not lose its write to the guard), and its envelope says so; a caller's own
 * version is kept, and refused (stale, with the version held) unless it is above the one held.
 */
function appendSource(decode: string): string {
  return `${OUTBOX_FUNCTIONS}
local bound = tonumber(ARGV[1])
if ARGV[2] ~= '' then
  local held = redis.call('GET', KEYS[4])
  if held and held ~= ARGV[2] then return {'mismatch', held} end
  if not held then redis.call('SET', KEYS[4], ARGV[2]) end
end
local writes = #KEYS - ${OUTBOX_KEYS_PER_SHARD}
local adding = 0
for i = 1, writes do
  local at = 2 + (i - 1) * ${APPEND_ARGS_PER_WRITE}
  if ARGV[at + 1] ~= '${MODE_CACHE}' then adding = adding + tonumber(ARGV[at + 6]) end
end
local bytes = counted(KEYS[3])
if adding > 0 and bytes + adding > bound then
  return {'full', bytes, redis.call('XLEN', KEYS[1])}
end
local reply = {'ok', 0, 0}
for i = 1, writes do
  local at = 2 + (i - 1) * ${APPEND_ARGS_PER_WRITE}
  local mode = ARGV[at + 1]
  local given = tonumber(ARGV[at + 2])
  local version = given
  local envelope = ${decode}(ARGV[at + 3])
  local status = ${APPEND_WRITTEN}
  local live = false
  if mode ~= '${MODE_LOG}' then
    local key = KEYS[${OUTBOX_KEYS_PER_SHARD} + i]
    local stored
    stored, live = head_of(key)
    if stored and stored >= version then
      if ARGV[at + 5] == '1' then
        status = ${APPEND_STALE}
        version = stored
      else
        version = stored + 1
      end
    end
    if status == ${APPEND_WRITTEN} and version ~= given then envelope = with_version(envelope, version) end
  end
  -- The entry before the item: a script that fails midway is not undone, and an item in L2 without
  -- its entry would never reach L3.
  if status == ${APPEND_WRITTEN} and mode ~= '${MODE_CACHE}' then
    local v = string.format('%.0f', version)
    local id = ARGV[at + 8]
    -- One text of the small fields (id last: it may hold spaces), so a drain decodes two fields, not seven.
    local meta = ARGV[at + 6] .. ' ' .. v .. ' ' .. ARGV[at + 9] .. ' ' .. ARGV[at + 7] .. ' ' .. ARGV[at + 5] .. ' ' .. id
    local fields = {'m', meta, 'e', envelope}
    local seq = redis.call('INCR', KEYS[2])
    local added = redis.pcall('XADD', KEYS[1], '0-' .. seq, unpack(fields))
    if type(added) == 'table' and added.err then
      -- The counter fell behind the stream (deleted or restored alone): continue after the last id
      -- the stream gave out (kept even once its entries are gone).
      local info = redis.call('XINFO', 'STREAM', KEYS[1])
      local last = '0-0'
      for f = 1, #info, 2 do
        if info[f] == 'last-generated-id' then last = info[f + 1] end
      end
      seq = tonumber(string.sub(last, 3)) + 1
      redis.call('SET', KEYS[2], seq)
      redis.call('XADD', KEYS[1], '0-' .. seq, unpack(fields))
    end
    bytes = bytes + tonumber(ARGV[at + 6])
  end
  if status == ${APPEND_WRITTEN} and mode ~= '${MODE_LOG}' then
    local key = KEYS[${OUTBOX_KEYS_PER_SHARD} + i]
    if ARGV[at + 4] == '0' then
      redis.call('SET', key, envelope)
    else
      redis.call('SET', key, envelope, 'PX', ARGV[at + 4])
    end
  end
  reply[#reply + 1] = status
  reply[#reply + 1] = version
  reply[#reply + 1] = live and 1 or 0
end
redis.call('SET', KEYS[3], bytes)
reply[2] = bytes
reply[3] = redis.call('XLEN', KEYS[1])
return reply
`
}

export const outboxAppendScript = new RedisScript(appendSource(''))
/** The append with envelopes sent as text (a transport that is not binary-safe: text-wire.ts). */
export const outboxAppendScriptText = new RedisScript(`${UNTEXT_FUNCTION}${appendSource('untext')}`)

/**
 * Removes the entries with seq ≤ ARGV[1], at most ARGV[2] of them (a script blocks Redis: the
 * caller loops), in one XDEL. `{removed, bytes, entries}`.
 */
export const outboxRemoveThroughScript = new RedisScript(`${OUTBOX_FUNCTIONS}
local found = redis.call('XRANGE', KEYS[1], '-', '0-' .. ARGV[1], 'COUNT', ARGV[2])
if #found == 0 then return {0, counted(KEYS[3]), redis.call('XLEN', KEYS[1])} end
local bytes = counted(KEYS[3])
local ids = {}
for i, entry in ipairs(found) do
  bytes = bytes - tonumber(string.match(entry[2][2], '^%d+'))
  ids[i] = entry[1]
end
redis.call('XDEL', KEYS[1], unpack(ids))
redis.call('SET', KEYS[3], bytes)
return {#found, bytes, redis.call('XLEN', KEYS[1])}
`)

/**
 * ARGV: entry ids (`0-<seq>`). Removes those still in the stream, subtracting their bytes.
 * `{removed, bytes, entries}`.
 */
export const outboxRemoveEntriesScript = new RedisScript(`${OUTBOX_FUNCTIONS}
local bytes = counted(KEYS[3])
local removed = 0
for i = 1, #ARGV do
  local entry = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])[1]
  if entry then
    bytes = bytes - tonumber(string.match(entry[2][2], '^%d+'))
    redis.call('XDEL', KEYS[1], ARGV[i])
    removed = removed + 1
  end
end
redis.call('SET', KEYS[3], bytes)
return {removed, bytes, redis.call('XLEN', KEYS[1])}
`)

/**
 * KEYS[4]: the target key. ARGV[1]: the target. Refuses another target while entries are held:
 * `{'mismatch', held}`; else binds it: `{'ok', bytes, entries}`.
 */
export const outboxBindScript = new RedisScript(`${OUTBOX_FUNCTIONS}
local held = redis.call('GET', KEYS[4])
local entries = redis.call('XLEN', KEYS[1])
if held and held ~= ARGV[1] and entries > 0 then return {'mismatch', held} end
redis.call('SET', KEYS[4], ARGV[1])
return {'ok', counted(KEYS[3]), entries}
`)

/** KEYS[1]: a lease. Deletes it only if it still holds ARGV[1] (this flusher's token). */
/** KEYS: the lease; ARGV: the holder's token, the new length in ms. Extends it only while it is the holder's: 1, else 0. */
export const leaseRenewScript = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

export const leaseReleaseScript = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

/**
 * KEYS: item keys; ARGV: the version each should be dropped at. Deletes a key only while it holds
 * exactly that version: the flusher found that version superseded in L3, and a newer write made
 * meanwhile (with its own entry) must keep its L2 copy. Replies how many were deleted.
 */
export const dropIfVersionScript = new RedisScript(`${HEAD_FUNCTION}
local dropped = 0
for i = 1, #KEYS do
  local stored = head_of(KEYS[i])
  if stored == tonumber(ARGV[i]) then
    redis.call('DEL', KEYS[i])
    dropped = dropped + 1
  end
end
return dropped
`)
