import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { startServer } from '@sync-engine/node'
import type { ContractRequest, ContractResponse, ContractTarget } from './http-contract.ts'

/** The repository's build output: the bundles `npm run build` writes (what deployments run). */
export const DIST = join(import.meta.dirname, '../../dist')

export function bodyBytes(body: ContractRequest['body']): Uint8Array | undefined {
  return typeof body === 'string' ? new TextEncoder().encode(body) : body
}

/** The Node server on the embedded default, listening on a spare loopback port, over real sockets. */
export async function nodeTarget(token: string): Promise<ContractTarget> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sync-contract-'))
  const server = await startServer({
    config: { dataDir, port: 0, apiTokens: [token], logLevel: 'silent' },
  })
  return {
    token,
    async send(request) {
      const response = await fetch(new URL(request.path, server.url), {
        method: request.method,
        headers: request.headers,
        ...(request.body !== undefined && { body: bodyBytes(request.body) }),
      })
      return {
        status: response.status,
        headers: response.headers,
        body: new Uint8Array(await response.arrayBuffer()),
      }
    },
    async close() {
      await server.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

type LambdaHandler = (
  event: unknown,
  context: unknown,
) => Promise<{
  statusCode: number
  headers?: Record<string, string>
  multiValueHeaders?: Record<string, string[]>
  body: string
  isBase64Encoded: boolean
}>

/**
 * The Lambda API bundle (`dist/lambda/api.mjs`), invoked in this process with the events API
 * Gateway v2 (HTTP API) or a Function URL sends: a binary body base64 with `isBase64Encoded`, as
 * Lambda delivers it. The bundle reads its configuration from `process.env` at its first
 * invocation, so set the variables before the first `send`.
 */
export async function lambdaTarget(
  token: string,
  style: 'api-gateway' | 'function-url',
): Promise<ContractTarget> {
  const { handler } = (await import(pathToFileURL(join(DIST, 'lambda/api.mjs')).href)) as {
    handler: LambdaHandler
  }
  const domainName =
    style === 'function-url'
      ? 'abcdefgh.lambda-url.us-east-1.on.aws'
      : 'abc123.execute-api.us-east-1.amazonaws.com'
  let requests = 0
  return {
    token,
    async send(request) {
      const [rawPath, rawQueryString = ''] = request.path.split('?') as [string, string?]
      const bytes = bodyBytes(request.body)
      const event = {
        version: '2.0',
        routeKey: '$default',
        rawPath,
        rawQueryString,
        headers: { host: domainName, ...lowercase(request.headers ?? {}) },
        ...(rawQueryString && {
          queryStringParameters: Object.fromEntries(new URLSearchParams(rawQueryString)),
        }),
        requestContext: {
          accountId: style === 'function-url' ? 'anonymous' : '123456789012',
          apiId: 'abc123',
          authentication: null,
          authorizer: {},
          domainName,
          domainPrefix: domainName.split('.')[0],
          http: {
            method: request.method,
            path: rawPath,
            protocol: 'HTTP/1.1',
            sourceIp: '203.0.113.9',
            userAgent: 'contract',
          },
          requestId: `req-${++requests}`,
          routeKey: '$default',
          stage: '$default',
          time: '03/Dec/2026:12:00:00 +0000',
          timeEpoch: Date.now(),
        },
        body: bytes === undefined ? null : Buffer.from(bytes).toString('base64'),
        isBase64Encoded: bytes !== undefined,
      }
      const context = { awsRequestId: `req-${requests}`, getRemainingTimeInMillis: () => 30_000 }
      const result = await handler(event, context)
      const headers = new Headers(result.headers ?? {})
      for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
        for (const value of values) headers.append(name, value)
      }
      const body = result.isBase64Encoded
        ? new Uint8Array(Buffer.from(result.body, 'base64'))
        : new TextEncoder().encode(result.body ?? '')
      return { status: result.statusCode, headers, body }
    },
    async close() {},
  }
}

function lowercase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]))
}

/** The Worker bundle (`dist/worker/index.mjs`) in real workerd through Miniflare. */
export async function workerTarget(
  token: string,
  bindings: Record<string, string>,
): Promise<ContractTarget & { scheduled(): Promise<unknown> }> {
  const { Miniflare } = await import('miniflare')
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(DIST, 'worker/index.mjs'),
    compatibilityDate: '2025-09-01',
    compatibilityFlags: ['nodejs_compat'],
    bindings: { SYNC_API_TOKENS: token, ...bindings },
  })
  await mf.ready
  return {
    token,
    async send(request): Promise<ContractResponse> {
      const bytes = bodyBytes(request.body)
      const response = await mf.dispatchFetch(`http://worker.test${request.path}`, {
        method: request.method,
        headers: request.headers ?? {},
        ...(bytes !== undefined && { body: bytes }),
      })
      const headers = new Headers()
      for (const [name, value] of response.headers) headers.append(name, value)
      return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()) }
    },
    async scheduled() {
      // Miniflare's Fetcher type lacks `scheduled`, which the worker proxy has at run time.
      const worker = (await mf.getWorker()) as unknown as {
        scheduled(event: { cron: string; scheduledTime: Date }): Promise<unknown>
      }
      return worker.scheduled({ cron: '*/1 * * * *', scheduledTime: new Date() })
    },
    async close() {
      await mf.dispose()
    },
  }
}
