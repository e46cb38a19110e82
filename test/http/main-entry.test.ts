import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir, removeDir, sqliteIds } from './support/http-test-engine.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const MAIN = join(ROOT, 'packages/node/src/main.ts')

let dir: string

beforeAll(async () => {
  dir = await makeTempDir()
})
afterAll(async () => {
  await removeDir(dir)
})

const children = new Set<ChildProcess>()

afterEach(() => {
  // A failed test must not leave its server running.
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  children.clear()
})

function runMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk)
  })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  /** The URL of the "sync-engine listening on <url>" line, or a rejection quoting stderr if it exits first. */
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += String(chunk)
      const match = /^sync-engine listening on (http:\/\/\S+)\n/m.exec(stdout)
      if (match) resolve(match[1]!)
    })
    void exited.then((code) => reject(new Error(`main exited with ${code} before listening: ${stderr}`)))
  })
  // Tests that expect an early exit never await `listening`: keep its rejection handled.
  listening.catch(() => {})
  return { child, exited, listening, stdout: () => stdout, stderr: () => stderr }
}

describe('node main entry', () => {
  it('serves from SYNC_* env, and on SIGTERM flushes queued writes and exits 0', async () => {
    const dataDir = join(dir, 'sigterm')
    const main = runMain({
      SYNC_DATA_DIR: dataDir,
      SYNC_PORT: '0',
      SYNC_BATCH_FLUSH_MS: '60000',
      SYNC_LOG_LEVEL: 'silent',
    })
    const url = await main.listening
    const res = await fetch(`${url}/v1/items/queued-at-exit?ack=queued`, { method: 'PUT', body: 'keep me' })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { ack: string }).ack).toBe('queued')
    // Still only queued (the batch window is a minute): only the shutdown flush can store it.
    expect(sqliteIds(join(dataDir, 'sync.db'))).toEqual([])

    main.child.kill('SIGTERM')
    expect(await main.exited).toBe(0)
    expect(sqliteIds(join(dataDir, 'sync.db'))).toEqual(['queued-at-exit'])
  })

  it('exits 2 with the reason when asked to listen beyond loopback without tokens', async () => {
    const main = runMain({ SYNC_DATA_DIR: join(dir, 'refused'), SYNC_PORT: '0', SYNC_HOST: '0.0.0.0' })
    expect(await main.exited).toBe(2)
    expect(main.stderr()).toMatch(/apiTokens \(SYNC_API_TOKENS\) is empty/)
    expect(main.stdout()).not.toContain('listening')
  })
})
