/**
 * The slice of the web platform this package touches (fetch, AbortController, URL), declared here: the build has no Node or DOM
 * types (it must run on Workers and Lambda alike), and the root type-check has Node's, so a global
 * declaration would clash with them. The shapes match what `@planetscale/database` calls.
 */
export interface FetchInit {
  method: string
  headers: Record<string, string>
  body: string
  cache?: unknown
  signal?: AbortSignalLike
}

export interface FetchResponse {
  ok: boolean
  status: number
  statusText: string
  text(): Promise<string>
  headers?: { forEach(fn: (value: string, key: string) => void): void }
}

export type Fetch = (input: string, init?: FetchInit) => Promise<FetchResponse>

export interface AbortSignalLike {
  readonly aborted: boolean
  readonly reason?: unknown
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
}

interface AbortControllerLike {
  readonly signal: AbortSignalLike
  abort(reason?: unknown): void
}

/** The parts of a WHATWG URL read here (username and password stay percent-encoded). */
export interface UrlLike {
  readonly host: string
  readonly hostname: string
  readonly username: string
  readonly password: string
}

interface WebGlobals {
  fetch?: Fetch
  AbortController?: new () => AbortControllerLike
  URL: new (url: string) => UrlLike
}

const web = globalThis as unknown as WebGlobals

/** The platform's fetch, looked up when called (tests and polyfills may install it late). */
export function platformFetch(): Fetch | undefined {
  return web.fetch?.bind(globalThis)
}

/** An AbortController, or undefined on a platform without one (the deadline then only races). */
export function newAbortController(): AbortControllerLike | undefined {
  return web.AbortController === undefined ? undefined : new web.AbortController()
}

/** Parses a URL; throws (a TypeError quoting it) when it is not one. */
export function parseUrl(url: string): UrlLike {
  return new web.URL(url)
}
