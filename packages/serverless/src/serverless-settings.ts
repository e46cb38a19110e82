import { ConfigError, loadConfig, type SyncConfig } from '@sync-engine/core'

/** Where a serverless entry runs: Lambda may open sockets (ioredis, mysql2); a Worker only fetch. */
export type ServerlessRuntime = 'lambda' | 'worker'

export type RedisSettings =
  | { readonly driver: 'upstash'; readonly url: string; readonly token: string }
  | { readonly driver: 'ioredis'; readonly url: string }

export type SqlSettings =
  | { readonly driver: 'planetscale'; readonly url: string }
  | { readonly driver: 'mysql2'; readonly url: string }

export interface ServerlessSettings {
  readonly runtime: ServerlessRuntime
  readonly config: SyncConfig
  readonly redis: RedisSettings
  readonly sql: SqlSettings
}

/** The environment variables (Lambda) or bindings (Workers) the entries read, besides `SYNC_*`. */
export const SERVERLESS_ENV = {
  upstashUrl: 'UPSTASH_REDIS_REST_URL',
  upstashToken: 'UPSTASH_REDIS_REST_TOKEN',
  redisUrl: 'SYNC_REDIS_URL',
  sqlUrl: 'SYNC_SQL_URL',
  planetscaleUrl: 'PLANETSCALE_URL',
} as const

/**
 * The settings of a Lambda function or a Worker, from its environment (the same names as variables
 * on Lambda and as vars/secrets on Workers): one Redis (`SYNC_REDIS_URL`, or Upstash's REST URL and
 * token) and one SQL (`SYNC_SQL_URL` for MySQL/MariaDB, or `PLANETSCALE_URL`), plus the `SYNC_*`
 * settings. Writes are always kept in the Redis outbox (no local disk outlives an invocation), and
 * API tokens are required: a function URL or a Worker is reachable from anywhere. Every mistake is
 * a `ConfigError` naming the variable, never quoting a value.
 */
export function serverlessSettings(
  env: Readonly<Record<string, unknown>>,
  runtime: ServerlessRuntime,
  role: 'api' | 'flusher' = 'api',
): ServerlessSettings {
  const text = textEnv(env)
  const redis = redisSettings(text, runtime)
  const sql = sqlSettings(text, runtime)
  const config = loadConfig({
    env: text,
    overrides: {
      log: 'redis',
      ...(redis.driver === 'ioredis' && { redisUrl: redis.url }),
      ...(sql.driver === 'mysql2' && { sqlUrl: sql.url }),
    },
  })
  // The flusher serves no HTTP: it needs no token.
  if (role === 'api' && config.apiTokens.length === 0) {
    throw new ConfigError(
      'SYNC_API_TOKENS must name at least one token: a Lambda function URL or a Worker is reachable from anywhere',
      ['apiTokens'],
    )
  }
  return { runtime, config, redis, sql }
}

function textEnv(env: Readonly<Record<string, unknown>>): Record<string, string> {
  const text: Record<string, string> = {}
  for (const [name, value] of Object.entries(env))
    if (typeof value === 'string' && value !== '') text[name] = value
  return text
}

function redisSettings(env: Record<string, string>, runtime: ServerlessRuntime): RedisSettings {
  const { upstashUrl, upstashToken, redisUrl } = SERVERLESS_ENV
  const rest = env[upstashUrl]
  const token = env[upstashToken]
  const url = env[redisUrl]
  if (rest !== undefined && url !== undefined) {
    throw new ConfigError(`set one Redis: ${redisUrl} or ${upstashUrl}, not both`, ['redisUrl'])
  }
  if (rest !== undefined || token !== undefined) {
    if (rest === undefined || token === undefined) {
      throw new ConfigError(`Upstash needs both ${upstashUrl} and ${upstashToken}`, ['redisUrl'])
    }
    if (!/^https?:\/\//i.test(rest))
      throw new ConfigError(`${upstashUrl} must be an https:// URL (http:// only for a local stand-in)`, [
        'redisUrl',
      ])
    return { driver: 'upstash', url: rest, token }
  }
  if (url === undefined) {
    throw new ConfigError(
      `the outbox lives in Redis: set ${upstashUrl} and ${upstashToken}${runtime === 'lambda' ? `, or ${redisUrl}` : ''}`,
      ['redisUrl'],
    )
  }
  if (runtime === 'worker') {
    throw new ConfigError(
      `a Worker reaches Redis over HTTP only: set ${upstashUrl} and ${upstashToken} instead of ${redisUrl} (a redis:// URL needs a TCP socket)`,
      ['redisUrl'],
    )
  }
  if (!/^rediss?:\/\//i.test(url))
    throw new ConfigError(`${redisUrl} must be a redis:// or rediss:// URL`, ['redisUrl'])
  return { driver: 'ioredis', url }
}

function sqlSettings(env: Record<string, string>, runtime: ServerlessRuntime): SqlSettings {
  const { sqlUrl, planetscaleUrl } = SERVERLESS_ENV
  const planetscale = env[planetscaleUrl]
  const url = env[sqlUrl]
  if (planetscale !== undefined && url !== undefined) {
    throw new ConfigError(`set one SQL database: ${sqlUrl} or ${planetscaleUrl}, not both`, ['sqlUrl'])
  }
  if (planetscale !== undefined) {
    if (!/^https?:\/\//i.test(planetscale) || !hasCredentials(planetscale)) {
      throw new ConfigError(`${planetscaleUrl} must be an https://user:password@host URL`, ['sqlUrl'])
    }
    return { driver: 'planetscale', url: planetscale }
  }
  if (url === undefined) {
    throw new ConfigError(
      `set ${planetscaleUrl}${runtime === 'lambda' ? ` or ${sqlUrl} (mysql://…)` : ''}: L3 is where the flusher stores writes`,
      ['sqlUrl'],
    )
  }
  if (runtime === 'worker') {
    throw new ConfigError(
      `a Worker reaches SQL over HTTP only: set ${planetscaleUrl} instead of ${sqlUrl} (a mysql:// URL needs a TCP socket)`,
      ['sqlUrl'],
    )
  }
  if (!/^(mysql|mariadb):\/\//i.test(url)) {
    throw new ConfigError(
      `${sqlUrl} must be a mysql:// URL on Lambda (no local disk outlives an invocation)`,
      ['sqlUrl'],
    )
  }
  return { driver: 'mysql2', url: url.replace(/^mariadb:/i, 'mysql:') }
}

/** A URL with a host, a username and a password (checked here, so the error names the variable). */
function hasCredentials(url: string): boolean {
  try {
    const parsed = new URL(url)
    return parsed.hostname !== '' && parsed.username !== '' && parsed.password !== ''
  } catch {
    return false
  }
}
