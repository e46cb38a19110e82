// Values live in SST's per-stage secret store (`npx sst secret set <Name> <value> --stage <stage>`),
// never in the repository or in a deploy log.
export const upstashRedisRestUrl = new sst.Secret('UpstashRedisRestUrl')
export const upstashRedisRestToken = new sst.Secret('UpstashRedisRestToken')
// One secret for either L3 driver: the scheme decides at deploy time which variable the code reads,
// so switching between a MySQL server and PlanetScale is a `secret set` and a redeploy, not a code change.
export const sqlUrl = new sst.Secret('SqlUrl')
export const apiTokens = new sst.Secret('ApiTokens')

export const secrets = [upstashRedisRestUrl, upstashRedisRestToken, sqlUrl, apiTokens]

function sqlEnvironment(url: string): Record<string, string> {
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) return { SYNC_SQL_URL: url }
  if (url.startsWith('https://')) return { PLANETSCALE_URL: url }
  // Fail the deploy rather than ship a function that cannot reach L3; the value itself is a
  // credential, so only its expected shape is named.
  throw new Error('SqlUrl must be a mysql:// (or mariadb://) URL or a PlanetScale https:// URL')
}

// A fresh record per call: the Function component adds its own SST_* keys to the object it is given,
// so two functions must not share one.
export function environment() {
  return $resolve({
    url: upstashRedisRestUrl.value,
    token: upstashRedisRestToken.value,
    sql: sqlUrl.value,
    tokens: apiTokens.value,
  }).apply(
    ({ url, token, sql, tokens }): Record<string, string> => ({
      UPSTASH_REDIS_REST_URL: url,
      UPSTASH_REDIS_REST_TOKEN: token,
      ...sqlEnvironment(sql),
      SYNC_API_TOKENS: tokens,
      SYNC_REDIS_PREFIX: 'sync:',
      SYNC_SQL_TABLE: 'sync_items',
    }),
  )
}
