import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { main } from '../../packages/cli/src/main.ts'
import { type FakeApi, sendJson, sendProblem, startFakeApi } from './support/fake-api.ts'
import { memoryIo } from './support/memory-io.ts'

const TOKEN = 'secret-token-0123456789abcdef'
const BINARY = Buffer.from([0x00, 0xff, 0x10, 0x00, 0x80, 0xfe, 0xff, 0x0a])

let api: FakeApi
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sync-cli-client-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})
beforeEach(async () => {
  api = await startFakeApi()
})
afterEach(async () => {
  await api.close()
})

function run(args: string[], options: { env?: Record<string, string>; stdin?: Uint8Array } = {}) {
  const io = memoryIo({ env: { SYNC_URL: api.url, SYNC_API_TOKEN: TOKEN, ...options.env }, ...options })
  return main(args, io).then((code) => ({ code, io }))
}

function answerReceipt(version = 42) {
  api.handle((req, res) => {
    const id = decodeURIComponent(req.url.split('?')[0]!.slice('/v1/items/'.length))
    sendJson(res, 200, { id, version, ack: 'stored' })
  })
}

describe('put', () => {
  it('sends --json as application/json with the bearer token and prints the version', async () => {
    answerReceipt(42)
    const { code, io } = await run(['put', 'user:1', '--json', '{"name":"Ada"}'])
    expect(code).toBe(0)
    expect(io.stdoutText()).toBe('user:1 version 42\n')
    const [req] = api.requests
    expect(req?.method).toBe('PUT')
    expect(req?.url).toBe('/v1/items/user%3A1')
    expect(req?.headers['content-type']).toBe('application/json')
    expect(req?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(req?.body.toString()).toBe('{"name":"Ada"}')
  })

  it('sends a binary file byte for byte as application/octet-stream', async () => {
    answerReceipt()
    const file = join(dir, 'blob.bin')
    await writeFile(file, BINARY)
    const { code } = await run(['put', 'blob', file])
    expect(code).toBe(0)
    expect(api.requests[0]?.headers['content-type']).toBe('application/octet-stream')
    expect(Buffer.compare(api.requests[0]!.body, BINARY)).toBe(0)
  })

  it('sends a .json file as application/json, and --type overrides', async () => {
    answerReceipt()
    const file = join(dir, 'doc.JSON')
    await writeFile(file, '{"a":1}')
    expect((await run(['put', 'doc', file])).code).toBe(0)
    expect((await run(['put', 'doc', file, '--type', 'text/plain'])).code).toBe(0)
    expect(api.requests.map((r) => r.headers['content-type'])).toEqual(['application/json', 'text/plain'])
  })

  it('reads stdin with -', async () => {
    answerReceipt()
    const { code } = await run(['put', 'piped', '-'], { stdin: BINARY })
    expect(code).toBe(0)
    expect(Buffer.compare(api.requests[0]!.body, BINARY)).toBe(0)
  })

  it('passes ttl, tiers and ack as query parameters and encodes the id', async () => {
    answerReceipt()
    const args = ['put', 'a/b c?', '--json', '[]', '--ttl', '60000', '--tiers', 'redis', '--ack', 'queued']
    const { code, io } = await run(args)
    expect(code).toBe(0)
    expect(io.stdoutText()).toBe('a/b c? version 42\n')
    const url = new URL(api.requests[0]!.url, api.url)
    expect(url.pathname).toBe('/v1/items/a%2Fb%20c%3F')
    expect(Object.fromEntries(url.searchParams)).toEqual({ ttl: '60000', tiers: 'redis', ack: 'queued' })
  })

  it.each([
    [['put', 'x'], 'put needs a <file>, - for stdin, or --json'],
    [['put', 'x', 'f.bin', '--json', '{}'], 'give either a <file> or --json, not both'],
    [['put', 'x', '--json', '{nope'], '--json is not valid JSON'],
    [['put', 'x', '--json', '{}', '--ack', 'eventually'], '--ack must be one of queued, logged, stored'],
    [['put', 'x', '--json', '{}', '--ttl=-5'], "--ttl must be a non-negative integer, got '-5'"],
    [['put', 'x', '--json', '{}', '--ttl', '-5'], "option '--ttl' needs a value (write --ttl=<value>"],
    [['put', 'x', '--json', '{}', '--tiers', 'redis,disk'], "got 'disk'"],
    [['put'], 'missing <id>'],
    [['put', 'x', 'a', 'b'], "unexpected argument 'b'"],
    [['put', 'x', '--json'], "option '--json <value>' argument missing"],
  ])('rejects %j with a usage error (exit 2) and sends nothing', async (args, message) => {
    const { code, io } = await run(args)
    expect(code).toBe(2)
    const [first] = io.stderrText().split('\n')
    expect(first).toMatch(/^error: /)
    expect(first).toContain(message)
    expect(io.stderrText()).toContain('Usage: sync-engine put')
    expect(api.requests).toHaveLength(0)
  })

  it('reports a missing file (exit 1)', async () => {
    const { code, io } = await run(['put', 'x', join(dir, 'missing.bin')])
    expect(code).toBe(1)
    expect(io.stderrText()).toMatch(/^error: cannot read .*missing\.bin \(ENOENT\)\n$/)
  })
})

describe('get', () => {
  it('writes the raw bytes to stdout, and metadata to stderr with --meta', async () => {
    api.handle((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/octet-stream', etag: '"77"' }).end(BINARY),
    )
    const { code, io } = await run(['get', 'blob', '--meta'])
    expect(code).toBe(0)
    expect(Buffer.compare(io.stdoutBytes(), BINARY)).toBe(0)
    expect(io.stderrText()).toBe(
      `version: 77\ncontent-type: application/octet-stream\nsize: ${BINARY.length} bytes\n`,
    )
    expect(api.requests[0]?.method).toBe('GET')
  })

  it('writes to --out', async () => {
    api.handle((_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(BINARY))
    const out = join(dir, 'out.bin')
    const { code, io } = await run(['get', 'blob', '--out', out])
    expect(code).toBe(0)
    expect(io.stdoutText()).toBe('')
    expect(Buffer.compare(await readFile(out), BINARY)).toBe(0)
  })

  it('says not found on 404 (exit 1)', async () => {
    api.handle((_req, res) => sendProblem(res, 404, 'no item gone', 'NOT_FOUND'))
    const { code, io } = await run(['get', 'gone'])
    expect(code).toBe(1)
    expect(io.stderrText()).toBe('error: not found: gone\n')
    expect(io.stdoutText()).toBe('')
  })
})

describe('delete, stats, flush', () => {
  it('deletes', async () => {
    api.handle((_req, res) => sendJson(res, 200, { id: 'x', version: 9, ack: 'stored' }))
    const { code, io } = await run(['delete', 'x'])
    expect(code).toBe(0)
    expect(io.stdoutText()).toBe('deleted x\n')
    expect(api.requests[0]?.method).toBe('DELETE')
    expect(api.requests[0]?.url).toBe('/v1/items/x')
  })

  it('prints stats as pretty JSON', async () => {
    api.handle((_req, res) => sendJson(res, 200, { state: 'ready', l1: { items: 2 } }))
    const { code, io } = await run(['stats'])
    expect(code).toBe(0)
    expect(JSON.parse(io.stdoutText())).toEqual({ state: 'ready', l1: { items: 2 } })
    expect(io.stdoutText()).toContain('\n  "state": "ready"')
    expect(api.requests[0]?.url).toBe('/v1/stats')
  })

  it('flushes', async () => {
    api.handle((_req, res) => sendJson(res, 200, { written: 3, pending: 0 }))
    const { code, io } = await run(['flush'])
    expect(code).toBe(0)
    expect(io.stdoutText()).toBe('flushed 3 writes, 0 pending\n')
    expect(api.requests[0]?.method).toBe('POST')
    expect(api.requests[0]?.url).toBe('/v1/admin/flush')
  })
})

describe('errors', () => {
  it('prints a problem+json body as "error: <detail> (<code>)" and never the token', async () => {
    api.handle((_req, res) => sendProblem(res, 401, 'a valid bearer token is required', 'UNAUTHORIZED'))
    const { code, io } = await run(['stats', '--token', 'another-token-0123456789'])
    expect(code).toBe(1)
    expect(io.stderrText()).toBe('error: a valid bearer token is required (UNAUTHORIZED)\n')
    expect(api.requests[0]?.headers.authorization).toBe('Bearer another-token-0123456789')
    expect(io.stderrText() + io.stdoutText()).not.toContain('0123456789')
  })

  it('falls back to the HTTP status for a body that is not a problem', async () => {
    api.handle((_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>bad</h1>'))
    const { code, io } = await run(['flush'])
    expect(code).toBe(1)
    expect(io.stderrText()).toBe('error: HTTP 502 Bad Gateway\n')
  })

  it('says the server cannot be reached when the connection is refused', async () => {
    const url = api.url
    await api.close()
    api = await startFakeApi()
    const { code, io } = await run(['stats', '--url', url])
    expect(code).toBe(1)
    expect(io.stderrText()).toBe(`error: cannot reach ${url} (is the server running?)\n`)
  })

  it.each([
    [['stats', '--url', 'http://user:pw@localhost:1'], 'must not contain credentials'],
    [['stats', '--url', 'ftp://localhost'], 'must be http or https'],
    [['stats', '--url', 'not a url'], "invalid server URL 'not a url'"],
  ])('rejects a bad --url %j (exit 2)', async (args, message) => {
    const { code, io } = await run(args)
    expect(code).toBe(2)
    expect(io.stderrText().split('\n')[0]).toContain(message)
    expect(io.stderrText()).not.toContain('pw')
  })

  it('refuses a token that is not a valid header value without echoing it', async () => {
    const { code, io } = await run(['stats'], { env: { SYNC_API_TOKEN: 'has a space-in-it' } })
    expect(code).toBe(2)
    expect(io.stderrText()).not.toContain('space-in-it')
    expect(api.requests).toHaveLength(0)
  })
})
