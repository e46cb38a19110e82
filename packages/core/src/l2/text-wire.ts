import { binaryString, encodeBase64 } from '../encoding/base64.ts'

/**
 * Envelopes on a wire that carries text only (Upstash REST: a JSON body), decoded back to the same
 * bytes inside Redis, so every driver stores the same value. Two forms, chosen per value:
 *
 * - `L` + Latin-1: each byte as the character of that code. JSON sends it as UTF-8, so an ASCII
 *   byte crosses as itself and only bytes 0x80–0xFF (two UTF-8 bytes each) need decoding: one
 *   `string.gsub` with a table, in C. For JSON content (ASCII but for its header and any non-ASCII
 *   text) that is almost no work and 1× the size; base64 cost a Lua decode of every 4 characters
 *   and 4/3 the size.
 * - `B` + base64, for binary content: its bytes below 0x20 would cross JSON as six-character
 *   escapes (about 2.1× the size of random bytes, against base64's 1.33×).
 */
export function envelopeForTextWire(envelope: Uint8Array, json: boolean): string {
  return json ? `L${binaryString(envelope)}` : `B${encodeBase64(envelope)}`
}

/**
 * `untext(text)`: the bytes `envelopeForTextWire` encoded, in plain Lua 5.1 (Redis has no decoder
 * built in). Base64 goes through `string.gsub` with a per-call table of the 4-character groups
 * already decoded (JSON content repeats a lot); a new group is decoded once by `__index`.
 */
export const UNTEXT_FUNCTION = `
local B64 = {}
for i = 1, 64 do
  B64[string.byte('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', i)] = i - 1
end
local GROUPS = setmetatable({}, { __index = function(groups, group)
  local a, b, c, d = string.byte(group, 1, 4)
  local x = B64[a] * 262144 + B64[b] * 4096 + (B64[c] or 0) * 64 + (B64[d] or 0)
  local high, mid, low = math.floor(x / 65536), math.floor(x / 256) % 256, x % 256
  local bytes
  if c == 61 then bytes = string.char(high)
  elseif d == 61 then bytes = string.char(high, mid)
  else bytes = string.char(high, mid, low) end
  groups[group] = bytes
  return bytes
end })
local LATIN1 = {}
for byte = 128, 191 do LATIN1[string.char(194, byte)] = string.char(byte) end
for byte = 192, 255 do LATIN1[string.char(195, byte - 64)] = string.char(byte) end
local function untext(text)
  if string.byte(text, 1) == 76 then
    return (string.gsub(string.sub(text, 2), '[\\194\\195][\\128-\\191]', LATIN1))
  end
  return (string.gsub(string.sub(text, 2), '....', GROUPS))
end
`
