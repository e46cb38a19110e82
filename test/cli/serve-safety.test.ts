import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanEnv, type RunningServer, runCli, startServe, stop } from './support/cli-process.ts'

const START_TIMEOUT = 60_000
const TOKEN = 'cli-test-token-5f2c9a7e1b3d'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sync-cli-safety-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('serve refuses unsafe or invalid configurations', () => {
  it(
    'refuses to listen beyond loopback without tokens',
    async () => {
      const result = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--data', join(dir, 'open')])
      expect(result.code).not.toBe(0)
      expect(result.code).not.toBeNull()
      expect(result.stderr).toMatch(/^error: .*token/im)
      expect(result.stdout.toString()).not.toContain('listening on')
    },
    START_TIMEOUT,
  )

  it('exits 2 on an invalid configuration', async () => {
    const result = await runCli(['serve', '--port', '0'], { env: cleanEnv({ SYNC_BATCH_FLUSH_MS: 'soon' }) })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^error: invalid configuration: batchFlushMs \(SYNC_BATCH_FLUSH_MS\)/)
  })
})

describe('serve with tokens', () => {
  let server: RunningServer | undefined

  afterAll(async () => {
    await stop(server)
  })

  it(
    'needs the token for client commands, and never prints it',
    async () => {
      server = await startServe(
        ['--port', '0', '--data', join(dir, 'tokens')],
        cleanEnv({ SYNC_API_TOKENS: TOKEN }),
      )
      const denied = await runCli(['stats'], { env: cleanEnv({ SYNC_URL: server.url }) })
      expect(denied.code).toBe(1)
      expect(denied.stderr).toMatch(/^error: .+ \([A-Z_]+\)\n$/)

      const allowed = await runCli(['put', 'secret:1', '--json', '{"a":1}'], {
        env: cleanEnv({ SYNC_URL: server.url, SYNC_API_TOKEN: TOKEN }),
      })
      expect(allowed.stderr).toBe('')
      expect(allowed.code).toBe(0)
      const stats = await runCli(['stats', '--url', server.url, '--token', TOKEN])
      expect(stats.code).toBe(0)

      server.child.kill('SIGTERM')
      const exited = await server.exited
      expect(exited.code).toBe(0)
      for (const output of [denied, allowed, stats, exited]) {
        expect(output.stdout.toString()).not.toContain(TOKEN)
        expect(output.stderr).not.toContain(TOKEN)
      }
    },
    START_TIMEOUT,
  )
})
