import { Redis, type UpstashRequest } from '@upstash/redis'

/**
 * `@upstash/redis` down to its HTTP layer. The typed command methods cannot serve a transport:
 * they take text arguments, deserialise replies, and their base64 decoding turns bytes into UTF-8
 * text (losing every invalid sequence). The client's own `Requester` does exactly one POST with
 * the token, the sync token and a per-request abort signal, and hands back the parsed JSON body;
 * it is `protected` on `Redis`, so this subclass is the supported way to reach it.
 */
export class RestClient extends Redis {
  /** One POST to `path` (`[]` for `/`, `['pipeline']`, `['multi-exec']`); resolves to the JSON body. */
  post(request: UpstashRequest): Promise<unknown> {
    return this.client.request(request)
  }
}

export interface RestClientOptions {
  readonly url: string
  readonly token: string
  readonly readYourWrites: boolean
}

export function restClient(options: RestClientOptions): RestClient {
  return new RestClient({
    url: options.url,
    token: options.token,
    // Raw replies: no JSON.parse of values ("123" must stay the bytes 1, 2, 3).
    automaticDeserialization: false,
    // The client decodes base64 only to UTF-8 text; requests ask for base64 themselves and the
    // transport decodes it to bytes (see rest-encoding.ts).
    responseEncoding: false,
    // One attempt: the client's retries (up to 5, backing off for seconds) would overrun the
    // deadline and could apply a non-idempotent command twice; retrying is the engine's business.
    retry: { retries: 0 },
    // Only the typed methods auto-pipeline; the transport batches explicitly.
    enableAutoPipelining: false,
    enableTelemetry: false,
    latencyLogging: false,
    readYourWrites: options.readYourWrites,
  })
}
