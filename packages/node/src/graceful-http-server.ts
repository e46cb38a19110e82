import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'

type FetchHandler = (request: Request) => Response | Promise<Response>

/** In-flight requests get this long to finish once a close begins; then connections are cut. */
export const CLOSE_GRACE_MS = 10_000

/**
 * A Node HTTP server for a fetch handler whose `close()` stops accepting connections, lets the
 * requests in flight finish and ends idle keep-alive connections, so the close does not wait
 * for clients' keep-alive timeouts.
 */
export class GracefulHttpServer {
  readonly #server: Server
  readonly #inFlight = new Set<ServerResponse>()
  #closing: Promise<void> | undefined

  constructor(fetch: FetchHandler) {
    this.#server = createAdaptorServer({ fetch, createServer }) as Server
    this.#server.on('request', (_request, response: ServerResponse) => {
      this.#inFlight.add(response)
      if (this.#closing) response.shouldKeepAlive = false
      response.once('close', () => {
        this.#inFlight.delete(response)
        // The socket becomes idle just after the response closes; end it then if we are closing.
        if (this.#closing) setImmediate(() => this.#server.closeIdleConnections())
      })
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
      // Responses not started yet say `Connection: close`, so their sockets end after them.
      for (const response of this.#inFlight) if (!response.headersSent) response.shouldKeepAlive = false
      const cut = setTimeout(() => this.#server.closeAllConnections(), CLOSE_GRACE_MS)
      cut.unref()
      this.#server.close(() => {
        clearTimeout(cut)
        resolve()
      })
      this.#server.closeIdleConnections()
    })
    return this.#closing
  }
}
