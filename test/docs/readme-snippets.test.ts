import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { RedisKeyLayout } from '@sync-engine/core/internal'
import Database from 'better-sqlite3'
import { Redis } from 'ioredis'
import { createConnection } from 'mysql2/promise'
import { afterAll, describe, expect, it } from 'vitest'
import { describeWithMysql, describeWithRedis, mysqlUrl, redisUrl } from '../integration/support/services.ts'

/**
 * The README's library snippets, run as written with plain `node` (no loader) against the built
 * packages: they must run, finish on their own (nothing left holding the process open) and do
 * what they say. Only what differs per machine is replaced: the data path, the service URLs and
 * the Redis prefix (so this file cleans up exactly what it wrote).
 */

const ROOT = join(import.meta.dirname, '..', '..')
/** Inside the repository, so that `@sync-engine/*` resolve from its node_modules (ignored by git). */
const WORK = join(ROOT, '.snippets', `run-${randomBytes(4).toString('hex')}`)
mkdirSync(WORK, { recursive: true })
afterAll(() => rmSync(WORK, { recursive: true, force: true }))

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
const library = readme.slice(
  readme.indexOf('## As a library'),
  readme.indexOf('\n## ', readme.indexOf('## As a library') + 1),
)
const snippets = [...library.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!)

function run(name: string, code: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = join(WORK, `${name}.mjs`)
  writeFileSync(file, code)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: WORK, env: { ...process.env, NODE_OPTIONS: '' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    // A snippet that never exits (a handle left open) fails here rather than hanging the suite.
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name} did not exit within 20 s: ${stderr}`))
    }, 20_000)
    child.on('exit', (exitCode) => {
      clearTimeout(timer)
      resolve({ code: exitCode, stdout, stderr })
    })
  })
}

describe('README library snippets', () => {
  it('there are two, each a complete program', () => {
    expect(snippets).toHaveLength(2)
    for (const snippet of snippets) expect(snippet).toMatch(/^import .* from '@sync-engine\/core'/m)
  })

  it('the embedded one runs under plain node, prints what it says, and leaves a tombstone', async () => {
    const path = join(WORK, 'data', 'sync.db')
    const result = await run('embedded', snippets[0]!.replaceAll('./data/sync.db', path))
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).toBe("true { name: 'Alice' }")
    const row = new Database(path, { readonly: true })
      .prepare('SELECT tombstone FROM sync_items WHERE id = ?')
      .get('user:alice') as { tombstone: number }
    expect(row.tombstone).toBe(1)
  })
})

describeWithRedis('README snippet on Redis and', () => {
  describeWithMysql('MySQL/MariaDB', () => {
    const prefix = `test:snippet-${randomBytes(4).toString('hex')}:`
    const database = `snippet_${randomBytes(4).toString('hex')}`
    afterAll(async () => {
      const redis = new Redis(redisUrl())
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length > 0) await redis.unlink(...keys)
      redis.disconnect()
      const sql = await createConnection({ uri: mysqlUrl() })
      await sql.query(`DROP DATABASE IF EXISTS \`${database}\``)
      await sql.end()
    })

    it('runs as written and stores the TTL in every tier', async () => {
      const sql = await createConnection({ uri: mysqlUrl() })
      await sql.query(`CREATE DATABASE \`${database}\``)
      const url = new URL(mysqlUrl())
      url.pathname = `/${database}`
      const code = snippets[1]!
        .replaceAll("'redis://127.0.0.1:6379'", `'${redisUrl()}'`)
        .replaceAll("prefix: 'app:'", `prefix: '${prefix}'`)
        .replaceAll("'mysql://root@127.0.0.1:3306/test'", `'${url.href}'`)
      const result = await run('tiered', code)
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      const [rows] = await sql.query(
        `SELECT id, expires_at FROM \`${database}\`.sync_items WHERE tombstone = 0 ORDER BY id`,
      )
      await sql.end()
      expect((rows as { id: Buffer; expires_at: number | null }[]).map((row) => String(row.id))).toEqual([
        'user:1',
      ])
      expect((rows as { expires_at: number | null }[])[0]?.expires_at).toBeGreaterThan(Date.now())
      const redis = new Redis(redisUrl())
      const keys = new RedisKeyLayout(prefix)
      expect(await redis.pttl(keys.itemKey('session:1'))).toBeGreaterThan(0)
      expect(await redis.pttl(keys.itemKey('user:1'))).toBeGreaterThan(0)
      redis.disconnect()
    })
  })
})
