import { request } from 'node:http'

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/**
 * Sends headers, then lets `writeBody` stream the body at its own pace, and resolves with the
 * response whenever it arrives, even before the body is done. Write errors after an early
 * response (the server may stop reading) are expected and ignored.
 */
export function rawRequest(
  url: string,
  options: { method: string; headers: Record<string, string> },
  writeBody: (write: (chunk: Uint8Array) => boolean, end: () => void, events: RawEvents) => void,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method, headers: options.headers })
    let answered = false
    req.on('response', (res) => {
      answered = true
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
      res.on('error', reject)
    })
    req.on('error', (error) => {
      if (!answered) reject(error)
    })
    const events: RawEvents = { onContinue: (fn) => req.on('continue', fn) }
    req.flushHeaders()
    writeBody(
      (chunk) => !req.destroyed && req.write(chunk),
      () => req.end(),
      events,
    )
  })
}

export interface RawEvents {
  /** Called when the server answered `100 Continue`: it has received the headers and dispatched the request. */
  onContinue(fn: () => void): void
}
