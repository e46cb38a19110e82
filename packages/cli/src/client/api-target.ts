import { UsageError } from '../cli-error.ts'

export const DEFAULT_URL = 'http://127.0.0.1:8787'

/** The options every client command takes. */
export const CLIENT_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
} as const

/** The help lines for `CLIENT_OPTIONS`. */
export const CLIENT_OPTIONS_HELP = `Connection:
  --url <url>      server base URL (env SYNC_URL, default ${DEFAULT_URL})
  --token <token>  bearer token (env SYNC_API_TOKEN; prefer the env var: flags are visible in ps)`

/** Where a client command sends its requests. `token` never appears in any output. */
export interface ApiTarget {
  /** Base URL without a trailing slash. */
  readonly baseUrl: string
  readonly token: string | undefined
}

export function resolveTarget(
  values: { url?: string | undefined; token?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): ApiTarget {
  const raw = values.url ?? nonEmpty(env.SYNC_URL) ?? DEFAULT_URL
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UsageError(`invalid server URL '${raw}'`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`server URL must be http or https, got '${url.protocol}'`)
  }
  if (url.username || url.password) {
    throw new UsageError(
      'server URL must not contain credentials; pass a token with --token or SYNC_API_TOKEN',
    )
  }
  if (url.search || url.hash) throw new UsageError('server URL must not have a query or fragment')
  const token = values.token ?? nonEmpty(env.SYNC_API_TOKEN)
  // A header value fetch would reject ends up in its error message: refuse it here, without echoing it.
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) {
    throw new UsageError('token must be printable ASCII without spaces')
  }
  return { baseUrl: url.href.replace(/\/+$/, ''), token }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
