import type { AckLevel } from '@sync-engine/core'
import type { Observed, WriteResult } from './history.ts'
import type { WriteTarget } from './write-target.ts'

/** Problem codes of a 503 that refused the write before queueing it (see engine-target.ts). */
const REFUSED_503 = new Set(['ENGINE_STATE', 'BACKPRESSURE'])

export interface HttpTargetOptions {
  /** The server's base URL, read per request (a restarted server may move). */
  baseUrl: () => string
  /** `?ack=` on every write; omitted means the server's default, recorded as `defaultAck`. */
  ack?: AckLevel
  /** The server's default ack level, for writes that name none (DELETE answers without a receipt). */
  defaultAck: AckLevel
}

/** PUT/DELETE/GET `/v1/items/:id` over fetch (keep-alive). */
export function httpTarget(options: HttpTargetOptions): WriteTarget {
  const query = options.ack === undefined ? '' : `?ack=${options.ack}`
  const itemUrl = (id: string) => `${options.baseUrl()}/v1/items/${encodeURIComponent(id)}`
  return {
    put: (id, content) =>
      write(`${itemUrl(id)}${query}`, {
        method: 'PUT',
        body: content,
        headers: { 'content-type': 'text/plain' },
      }),
    delete: (id) => write(`${itemUrl(id)}${query}`, { method: 'DELETE' }),
    async get(id) {
      const response = await fetch(itemUrl(id))
      const body = await response.text()
      if (response.status === 404) return { present: false } satisfies Observed
      if (response.status !== 200) throw new Error(`GET ${id}: ${response.status} ${body}`)
      const version = Number(/^"(\d+)"$/.exec(response.headers.get('etag') ?? '')?.[1])
      if (!Number.isSafeInteger(version)) throw new Error(`GET ${id}: no version ETag`)
      return { present: true, version, content: body }
    },
  }

  async function write(url: string, init: RequestInit): Promise<WriteResult> {
    let response: Response
    try {
      response = await fetch(url, init)
    } catch (error) {
      // Connection refused: the request never left this process. Anything else (reset, closed
      // mid-response) may have reached the server.
      const code = (error as { cause?: { code?: string } }).cause?.code
      const reason = `${String(error)}${code ? ` (${code})` : ''}`
      return code === 'ECONNREFUSED' ? { kind: 'failed', reason } : { kind: 'unknown', reason }
    }
    let body: string
    try {
      body = await response.text()
    } catch (error) {
      return { kind: 'unknown', reason: `${response.status}, body lost: ${String(error)}` }
    }
    if (response.status === 204) return { kind: 'acked', ack: options.ack ?? options.defaultAck }
    if (response.status === 200 || response.status === 201) {
      const receipt = JSON.parse(body) as { version: number; ack: AckLevel }
      return { kind: 'acked', ack: receipt.ack, version: receipt.version }
    }
    const reason = `${response.status} ${body}`
    if (response.status < 500) return { kind: 'failed', reason }
    const code = problemCode(body)
    return code !== undefined && REFUSED_503.has(code)
      ? { kind: 'failed', reason }
      : { kind: 'unknown', reason }
  }
}

function problemCode(body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code
    return typeof code === 'string' ? code : undefined
  } catch {
    return undefined
  }
}
