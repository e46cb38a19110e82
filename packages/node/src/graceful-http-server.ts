import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'

type FetchHandler = (request: Request) => Response | Promise<Response>

/** In-flight requests get this long to finish once a close begins; then connections are cut. */
export const CLOSE_GRACE_MS = 10_000
/** How often a closing server ends the connections that went idle since. */
const IDLE_CHECK_MS = 10

/**
 * A Node HTTP server for a fetch handler whose `close()` stops accepting connections, lets the
 * requests in flight finish and ends idle keep-alive connections, so the close does not wait
 * for clients' keep-alive timeouts.
 */
export class GracefulHttpServer {
  readonly #server: Server
  #closing: Promise<void> | undefined

  constructor(fetch: FetchHandler) {
    this.#server = createAdaptorServer({ fetch, createServer }) as Server
    // One flag check per request: no listener or bookkeeping per response on the hot path.
    this.#server.on('request', (_request, response: ServerResponse) => {
      if (this.#closing) response.shouldKeepAlive = false
    })
  }

  /** Listens and resolves with the bound address (port 0 picks a free port). */
  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error)
      this.#server.once('error', onError)
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError)
        resolve(this.#server.address() as AddressInfo)
      })
    })
  }

  /** Idempotent. Resolves once every connection has ended. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      // A keep-alive connection becomes idle when its response ends: end idle ones until all are.
      const idle = setInterval(() => this.#server.closeIdleConnections(), IDLE_CHECK_MS)
      const cut = setTimeout(() => this.#server.closeAllConnections(), CLOSE_GRACE_MS)
      idle.unref()
      cut.unref()
      this.#server.close(() => {
        clearInterval(idle)
        clearTimeout(cut)
        resolve()
      })
      this.#server.closeIdleConnections()
    })
    return this.#closing
  }
}
