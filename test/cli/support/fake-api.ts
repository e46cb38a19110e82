import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

export type FakeHandler = (request: RecordedRequest, response: ServerResponse) => void

export interface FakeApi {
  readonly url: string
  readonly requests: RecordedRequest[]
  handle(handler: FakeHandler): void
  close(): Promise<void>
}

/** A loopback HTTP server that records requests and answers with whatever the test sets. */
export async function startFakeApi(): Promise<FakeApi> {
  const requests: RecordedRequest[] = []
  let handler: FakeHandler = (_req, res) => res.writeHead(500).end()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      }
      requests.push(recorded)
      handler(recorded, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle: (next) => {
      handler = next
    },
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  type = 'application/json',
): void {
  res.writeHead(status, { 'content-type': type }).end(JSON.stringify(body))
}

export function sendProblem(res: ServerResponse, status: number, detail: string, code: string): void {
  sendJson(
    res,
    status,
    { type: `urn:sync-engine:${code}`, title: code, status, detail, code },
    'application/problem+json',
  )
}
