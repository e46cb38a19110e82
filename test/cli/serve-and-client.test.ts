import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanEnv, type RunningServer, runCli, startServe, stop } from './support/cli-process.ts'

const START_TIMEOUT = 60_000
const BINARY = Buffer.from([0x00, 0xff, 0x00, 0x01, 0xfe, 0x7f, 0x80, 0x0a, 0x0d, 0x00, 0xff])

let dir: string
let server: RunningServer | undefined

function client(args: string[], input?: Uint8Array) {
  return runCli(args, { env: cleanEnv({ SYNC_URL: server!.url }), ...(input ? { input } : {}) })
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sync-cli-serve-'))
  server = await startServe(['--port', '0', '--data', join(dir, 'data')], cleanEnv())
}, START_TIMEOUT)

afterAll(async () => {
  await stop(server)
  await rm(dir, { recursive: true, force: true })
})

describe('sync-engine serve + client commands (real processes)', () => {
  it('prints one listening line with the URL and the L3 tier', () => {
    expect(server!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(server!.line).toMatch(/\(L3: .+\)$/)
  })

  it('puts a JSON file and gets the same document back', async () => {
    const file = join(dir, 'doc.json')
    await writeFile(file, '{"name":"Ada","tags":["x","y"],"n":1}')
    const put = await client(['put', 'doc:1', file])
    expect(put.stderr).toBe('')
    expect(put.code).toBe(0)
    expect(put.stdout.toString()).toMatch(/^doc:1 version \d+\n$/)

    const get = await client(['get', 'doc:1', '--meta'])
    expect(get.code).toBe(0)
    expect(JSON.parse(get.stdout.toString())).toEqual({ name: 'Ada', tags: ['x', 'y'], n: 1 })
    const version = put.stdout.toString().trim().split(' ').at(-1)
    expect(get.stderr).toContain(`version: ${version}`)
    expect(get.stderr).toMatch(/content-type: application\/json/)
  })

  it('puts a binary file and gets identical bytes back, on stdout and with --out', async () => {
    const file = join(dir, 'blob.bin')
    await writeFile(file, BINARY)
    const put = await client(['put', 'blob/1', file])
    expect(put.code).toBe(0)
    expect(put.stdout.toString()).toMatch(/^blob\/1 version \d+\n$/)

    const get = await client(['get', 'blob/1'])
    expect(get.code).toBe(0)
    expect(Buffer.compare(get.stdout, BINARY)).toBe(0)

    const out = join(dir, 'blob.out')
    const toFile = await client(['get', 'blob/1', '--out', out])
    expect(toFile.code).toBe(0)
    expect(Buffer.compare(await readFile(out), BINARY)).toBe(0)
  })

  it('puts from stdin and inline --json', async () => {
    const piped = await client(['put', 'piped', '-'], BINARY)
    expect(piped.code).toBe(0)
    expect(Buffer.compare((await client(['get', 'piped'])).stdout, BINARY)).toBe(0)

    const inline = await client(['put', 'inline', '--json', '{"ok":true}'])
    expect(inline.code).toBe(0)
    expect(JSON.parse((await client(['get', 'inline'])).stdout.toString())).toEqual({ ok: true })
  })

  it('deletes, after which get fails with "not found" (exit 1)', async () => {
    const del = await client(['delete', 'doc:1'])
    expect(del.code).toBe(0)
    expect(del.stdout.toString()).toBe('deleted doc:1\n')

    const get = await client(['get', 'doc:1'])
    expect(get.code).toBe(1)
    expect(get.stderr).toBe('error: not found: doc:1\n')
    expect(get.stdout.length).toBe(0)
  })

  it('prints stats as JSON and flushes', async () => {
    const stats = await client(['stats'])
    expect(stats.stderr).toBe('')
    expect(stats.code).toBe(0)
    expect(typeof JSON.parse(stats.stdout.toString())).toBe('object')

    const flush = await client(['flush'])
    expect(flush.stderr).toBe('')
    expect(flush.code).toBe(0)
    expect(flush.stdout.toString()).toMatch(/^flushed/)
  })

  it('answers --help (exit 0) and an unknown command (exit 2)', async () => {
    const help = await client(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout.toString()).toContain('Usage:')
    const unknown = await client(['frobnicate'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr.split('\n')[0]).toBe("error: unknown command 'frobnicate'")
  })

  it(
    'stops gracefully on SIGTERM (exit 0)',
    async () => {
      server!.child.kill('SIGTERM')
      const result = await server!.exited
      expect(result.signal).toBeNull()
      expect(result.code).toBe(0)
    },
    START_TIMEOUT,
  )

  it('then says the server cannot be reached', async () => {
    const stats = await client(['stats'])
    expect(stats.code).toBe(1)
    expect(stats.stderr).toBe(`error: cannot reach ${server!.url} (is the server running?)\n`)
  })
})
