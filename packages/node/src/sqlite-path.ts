import { join } from 'node:path'
import { ConfigError, ENV_VARS, type SyncConfig } from '@sync-engine/core'

const SCHEME = /^([a-z][a-z0-9+.-]*):/i
const SQL_URL = `sqlUrl (${ENV_VARS.sqlUrl})`

/** The scheme of an L3 URL, lower-cased; a `ConfigError` naming `sqlUrl` when it has none. */
export function sqlUrlScheme(url: string): string {
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase()
  if (scheme === undefined) {
    throw new ConfigError(`${SQL_URL} must be a URL such as sqlite:<path> or mysql://…; it has no scheme`, [
      'sqlUrl',
    ])
  }
  return scheme
}

/**
 * The SQLite file L3 lives in: `<dataDir>/sync.db` when `sqlUrl` is unset, else the path of a
 * `sqlite:<path>` or `sqlite://<path>` URL (`sqlite:///abs/file.db` is absolute, `sqlite::memory:`
 * is an in-memory database). Other schemes throw a `ConfigError` naming `sqlUrl`. Errors quote
 * only the scheme, never the URL, which may hold a password.
 */
export function sqlitePathFor(config: Pick<SyncConfig, 'sqlUrl' | 'dataDir'>): string {
  const url = config.sqlUrl
  if (url === undefined) return join(config.dataDir, 'sync.db')
  const scheme = sqlUrlScheme(url)
  if (scheme !== 'sqlite') {
    throw new ConfigError(
      `${SQL_URL}: ${scheme}: is not a supported scheme here; use sqlite:<path>, mysql://… or mariadb://…`,
      ['sqlUrl'],
    )
  }
  let path = url.slice(scheme.length + 1)
  if (path.startsWith('//')) path = path.slice(2)
  if (path === '')
    throw new ConfigError(`${SQL_URL}: sqlite: needs a file path, e.g. sqlite:./data/sync.db`, ['sqlUrl'])
  return path
}

/** The write-ahead log's file: always local, beside the data (never on the L3 server). */
export function walPathFor(config: Pick<SyncConfig, 'dataDir'>): string {
  return join(config.dataDir, 'wal.db')
}
