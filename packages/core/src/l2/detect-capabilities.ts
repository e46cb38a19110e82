import { replyText } from './redis-reply.ts'
import type { RedisCapabilities, RedisReply, RedisTransport } from './redis-transport.ts'

/** RediSearch 2.0 introduced FT.CREATE … ON HASH|JSON and DIALECT; 1.x (Debian's) is unusable. */
const MIN_SEARCH_MODULE_VERSION = 20000

/**
 * Detects what the server offers, in one round trip at connect, for every transport alike:
 * `COMMAND INFO JSON.SET FT.SEARCH` says whether the commands exist, `MODULE LIST` rules out an
 * old RediSearch, `INFO cluster` says whether keys are spread over slots. Each probe may fail
 * (managed services disable MODULE or INFO); a failed probe means "not available", never an error.
 */
export async function detectRedisCapabilities(
  transport: Pick<RedisTransport, 'pipeline'>,
): Promise<RedisCapabilities> {
  const [commands, modules, cluster] = await transport.pipeline([
    ['COMMAND', 'INFO', 'JSON.SET', 'FT.SEARCH'],
    ['MODULE', 'LIST'],
    ['INFO', 'cluster'],
  ])
  const known = Array.isArray(commands) ? commands.map((entry) => Array.isArray(entry)) : []
  const searchVersion = moduleVersion(modules, ['search', 'ft'])
  return {
    json: known[0] === true,
    search: known[1] === true && (searchVersion === undefined || searchVersion >= MIN_SEARCH_MODULE_VERSION),
    cluster: infoSays(cluster, 'cluster_enabled:1'),
  }
}

/** The version of the first module named one of `names`, from MODULE LIST's flat name/value arrays. */
function moduleVersion(reply: RedisReply | undefined, names: readonly string[]): number | undefined {
  if (!Array.isArray(reply)) return undefined
  for (const entry of reply) {
    if (!Array.isArray(entry)) continue
    const fields = new Map<string, string>()
    for (let i = 0; i + 1 < entry.length; i += 2) {
      fields.set(textOf(entry[i]), textOf(entry[i + 1]))
    }
    if (names.includes((fields.get('name') ?? '').toLowerCase())) return Number(fields.get('ver'))
  }
  return undefined
}

/** A scalar reply as text ('' for anything else): tolerant, since probing must never throw. */
function textOf(reply: RedisReply | undefined): string {
  if (typeof reply === 'number') return String(reply)
  if (typeof reply === 'string' || reply instanceof Uint8Array) return replyText(reply, 'MODULE LIST')
  return ''
}

function infoSays(reply: RedisReply | undefined, line: string): boolean {
  if (typeof reply !== 'string' && !(reply instanceof Uint8Array)) return false
  return replyText(reply, 'INFO')
    .split(/\r?\n/)
    .some((l) => l.trim() === line)
}
