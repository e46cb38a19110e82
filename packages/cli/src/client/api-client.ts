import { CliError } from '../cli-error.ts'
import type { ApiTarget } from './api-target.ts'
import { describeFailure } from './problem.ts'

export interface RequestOptions {
  readonly body?: Uint8Array | string
  readonly headers?: Readonly<Record<string, string>>
  readonly query?: Readonly<Record<string, string | undefined>>
  /** The error message for a 404 (else the server's problem detail is used). */
  readonly notFound?: string
}

/**
 * Sends requests to the server with the bearer token. Resolves only with a 2xx response; every
 * failure becomes a `CliError` (exit 1) whose message never contains the token.
 */
export class ApiClient {
  constructor(
    readonly target: ApiTarget,
    private readonly fetchFn: typeof fetch,
  ) {}

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json, */*', ...options.headers }
    if (this.target.token !== undefined) headers.authorization = `Bearer ${this.target.token}`
    let response: Response
    try {
      response = await this.fetchFn(this.#url(path, options.query), {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: options.body }),
      })
    } catch (error) {
      throw this.#networkError(error)
    }
    if (response.ok) return response
    if (response.status === 404 && options.notFound !== undefined) {
      await response.body?.cancel()
      throw new CliError(options.notFound)
    }
    throw new CliError(await describeFailure(response))
  }

  /** GET/POST and parse the JSON answer (undefined for an empty body). */
  async json(method: string, path: string, options: RequestOptions = {}): Promise<unknown> {
    const response = await this.request(method, path, options)
    const text = await response.text()
    if (text.trim() === '') return undefined
    try {
      return JSON.parse(text)
    } catch {
      throw new CliError(`the server answered ${method} ${path} with a body that is not JSON`)
    }
  }

  #url(path: string, query: RequestOptions['query']): string {
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, value)
    const search = params.toString() === '' ? '' : `?${params}`
    return `${this.target.baseUrl}${path}${search}`
  }

  #networkError(error: unknown): CliError {
    const code = causeCode(error)
    const url = this.target.baseUrl
    if (code === 'ECONNREFUSED') return new CliError(`cannot reach ${url} (is the server running?)`)
    if (code !== undefined) return new CliError(`cannot reach ${url} (${code})`)
    const cause = (error as { cause?: unknown } | null)?.cause
    if (cause instanceof Error) return new CliError(`cannot reach ${url} (${cause.message})`)
    // Not a network failure: fetch rejected the request itself, and its message may quote headers.
    return new CliError(`request to ${url} failed`)
  }
}

/** The system error code behind a fetch failure (`TypeError: fetch failed` with a cause). */
function causeCode(error: unknown): string | undefined {
  let cause = (error as { cause?: unknown } | null)?.cause
  for (let depth = 0; depth < 3 && cause; depth++) {
    const code = (cause as { code?: unknown }).code
    if (typeof code === 'string') return code
    const first = (cause as { errors?: unknown[] }).errors?.[0]
    cause = first ?? (cause as { cause?: unknown }).cause
  }
  return undefined
}
