import { ConfigError } from '@sync-engine/core'
import { type Fetch, parseUrl, type UrlLike } from './web-platform.ts'

export interface PlanetScaleOptions {
  /**
   * `mysql://user:pass@aws.connect.psdb.cloud` as PlanetScale shows it (`https://` alike; `http://`
   * stays plain HTTP, for a local stand-in). Or give `host`, `username` and `password` instead.
   */
  url?: string
  host?: string
  username?: string
  password?: string
  /** Replaces the platform's fetch (e.g. undici's with a keep-alive agent, or a test double). */
  fetch?: Fetch
  /** Deadline of every call, retries included. Default 10 s. */
  timeoutMs?: number
}

/** What the client is configured with, plus what the transport needs to name and redact it. */
export interface PlanetScaleEndpoint {
  /** Passed to `connect()` as they are: the client itself decides http vs https from `url`. */
  readonly config: { url: string } | { host: string; username: string; password: string }
  /**
   * `username@host`. The host alone is shared by every database of a region, so it cannot tell two
   * stores apart; a PlanetScale username names one branch's password, and is no secret.
   */
  readonly target: string
  /** Strings that must never appear in an error message. */
  readonly secrets: readonly string[]
}

/**
 * Reads the options. Errors never repeat the URL: even a malformed one may hold a password. The URL
 * is parsed here first because the client's own `new URL()` would throw a TypeError quoting it.
 */
export function planetScaleEndpoint(options: PlanetScaleOptions): PlanetScaleEndpoint {
  if (options.url !== undefined) {
    let parsed: UrlLike
    try {
      parsed = parseUrl(options.url)
    } catch {
      throw new ConfigError('sqlUrl is not a valid URL (expected mysql://user:pass@host)', ['sqlUrl'])
    }
    if (parsed.hostname === '' || parsed.username === '' || parsed.password === '') {
      throw new ConfigError('sqlUrl must carry a host, a username and a password', ['sqlUrl'])
    }
    const password = decodeURIComponent(parsed.password)
    return {
      config: { url: options.url },
      target: `${decodeURIComponent(parsed.username)}@${parsed.host}`,
      secrets: [options.url, parsed.password, password],
    }
  }
  const { host, username, password } = options
  if (!host || !username || !password) {
    throw new ConfigError('PlanetScale needs a url, or a host, a username and a password', ['sqlUrl'])
  }
  return {
    config: { host, username, password },
    target: `${username}@${host}`,
    secrets: [password, encodeURIComponent(password)],
  }
}
