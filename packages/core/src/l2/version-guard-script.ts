import { RedisScript } from './redis-script.ts'

/** Replies of the guard, per key. */
export const GUARD_WRITTEN = 1
export const GUARD_SAME_VERSION = 0
export const GUARD_STALE = -1

/**
 * The version guard: writes an envelope unless the key already holds the same or a newer version,
 * atomically per key (one script, one key: cluster-safe). Value and TTL go in one SET, so an entry
 * is never visible without its expiry (the original sent a separate EXPIRE).
 *
 * KEYS[1] item key · ARGV[1] version (decimal) · ARGV[2] envelope · ARGV[3] TTL ms, '0' for none ·
 * ARGV[4] '1' to also replace the same version (a repair after a hash mismatch), else '0'
 *
 * - Only the 16 fixed header bytes are read (GETRANGE), not a 16 MiB value. Numbers are rebuilt
 *   from big-endian bytes with string.byte: plain Lua 5.1, no `struct` module (not every Redis-
 *   compatible server has it), binary-safe, and exact since versions are integers below 2^53 and
 *   Lua numbers are doubles. ARGV[1] is decimal text, also exact through tonumber.
 * - A key of the wrong type (WRONGTYPE), a value that is not an envelope, or one whose length
 *   differs from its header's (truncated, padded) is corruption: the write replaces it whatever
 *   its header claims, which is how the engine repairs L2 from L3.
 * - A newer stored version is never replaced, repair or not: L2 must not go back in time.
 * - A write without TTL clears any previous TTL: the TTL is the write's routing, not sticky.
 */
export const versionGuardScript = new RedisScript(`
local incoming = tonumber(ARGV[1])
local head = redis.pcall('GETRANGE', KEYS[1], 0, 15)
if type(head) == 'table' then
  redis.call('DEL', KEYS[1])
elseif #head == 16 and string.sub(head, 1, 3) == '\\255SE' then
  local total = 0
  for i = 13, 16 do total = total * 256 + string.byte(head, i) end
  if total == redis.call('STRLEN', KEYS[1]) then
    local stored = 0
    for i = 5, 12 do stored = stored * 256 + string.byte(head, i) end
    if stored > incoming then return ${GUARD_STALE} end
    if stored == incoming and ARGV[4] ~= '1' then return ${GUARD_SAME_VERSION} end
  end
end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return ${GUARD_WRITTEN}
`)
