import { ConfigError } from '@sync-engine/core'

/** What a `mysql://user:pass@host:port/db` URL says, decoded. */
export interface MysqlEndpoint {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  readonly database: string
  /** `?ssl=true`: TLS with the server's certificate verified (PlanetScale, managed MySQL). */
  readonly ssl: boolean
}

const SCHEMES = new Set(['mysql:', 'mariadb:'])

/**
 * Parses a connection URL. Errors never repeat the URL: even a malformed one may hold a password
 * (a missing `:` after the scheme is enough for a redactor to miss it).
 */
export function parseMysqlUrl(url: string): MysqlEndpoint {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError('sqlUrl is not a valid URL (expected mysql://user:pass@host:3306/db)', ['sqlUrl'])
  }
  if (!SCHEMES.has(parsed.protocol)) {
    throw new ConfigError(`sqlUrl scheme must be mysql:, got ${parsed.protocol}`, ['sqlUrl'])
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''))
  if (database === '' || database.includes('/')) {
    throw new ConfigError('sqlUrl must name one database (mysql://user:pass@host:3306/db)', ['sqlUrl'])
  }
  const ssl = parsed.searchParams.get('ssl')
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: parsed.port === '' ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
    ssl: ssl === 'true' || ssl === '1' || ssl === 'required',
  }
}
