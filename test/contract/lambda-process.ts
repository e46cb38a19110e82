import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll } from 'vitest'
import { DIST } from './contract-targets.ts'

/** A copy of `dist/lambda` in a fresh temp directory: no node_modules there or above it. */
export async function copyLambdaBundles(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sync-lambda-'))
  await cp(join(DIST, 'lambda'), dir, { recursive: true })
  await cp(join(import.meta.dirname, '../support/lambda-child.mjs'), join(dir, 'lambda-child.mjs'))
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

/**
 * For one describe block: a copy of the bundles made before its tests, and `start` for Lambda
 * processes over it (each with `env` and any `extra`), every one stopped and the copy removed after.
 */
export function lambdaProcesses(env: () => Record<string, string>) {
  let bundles: Awaited<ReturnType<typeof copyLambdaBundles>> | undefined
  const started: LambdaProcess[] = []
  beforeAll(async () => {
    bundles = await copyLambdaBundles()
  })
  afterAll(async () => {
    await Promise.allSettled(started.map((child) => child.close()))
    await bundles?.remove()
  })
  return {
    start(bundle: string, extra: Record<string, string> = {}): LambdaProcess {
      if (bundles === undefined) throw new Error('lambdaProcesses: start called before beforeAll')
      const child = new LambdaProcess(bundles.dir, bundle, { ...env(), ...extra })
      started.push(child)
      return child
    },
  }
}

/** A Lambda "runtime" process serving one bundle from `dir` with only `env` (no inherited SYNC_*). */
export class LambdaProcess {
  readonly #child: ChildProcessWithoutNullStreams
  readonly #replies: AsyncIterator<string>
  stderr = ''

  constructor(dir: string, bundle: string, env: Record<string, string>) {
    this.#child = spawn(process.execPath, ['lambda-child.mjs', bundle], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.#child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString()
    })
    this.#replies = createInterface({ input: this.#child.stdout })[Symbol.asyncIterator]()
  }

  get pid(): number {
    return this.#child.pid!
  }

  /** One invocation; resolves with what the handler returned (or threw). */
  async invoke<R = HttpResult>(event: unknown, remainingMs = 30_000): Promise<{ result: R; error?: string }> {
    this.#child.stdin.write(`${JSON.stringify({ event, remainingMs })}\n`)
    const reply = await this.#replies.next()
    if (reply.done) throw new Error(`the Lambda process exited: ${this.stderr}`)
    return JSON.parse(reply.value)
  }

  /** SIGKILL, as when the Lambda service reclaims an environment; resolves once it is gone. */
  async kill(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once('exit', resolve))
    process.kill(this.#child.pid!, 'SIGKILL')
    await exited
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    const exited = new Promise((resolve) => this.#child.once('exit', resolve))
    this.#child.stdin.end()
    this.#child.kill('SIGTERM')
    await exited
  }
}

/** What the API bundle answers an API Gateway v2 event with. */
export interface HttpResult {
  readonly statusCode: number
  readonly headers: Record<string, string>
  readonly body: string
  readonly isBase64Encoded: boolean
}

/** An API Gateway v2 event (HTTP API, payload 2.0) for the API bundle. */
export function httpEvent(
  method: string,
  path: string,
  options: { token: string; body?: string | Uint8Array; contentType?: string },
) {
  const body = options.body === undefined ? null : Buffer.from(options.body).toString('base64')
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {
      host: 'abc123.execute-api.us-east-1.amazonaws.com',
      authorization: `Bearer ${options.token}`,
      ...(options.contentType && { 'content-type': options.contentType }),
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' },
      requestId: 'req',
      routeKey: '$default',
      stage: '$default',
      time: '03/Dec/2026:12:00:00 +0000',
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: body !== null,
  }
}
