import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../../packages/http/src', import.meta.url))

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/**
 * The app must run on Node, Lambda and Workers alike: only `src/node/**` may use
 * Node modules, Node globals, the Node server adapter, pino or the SQLite driver.
 */
describe('packages/http outside src/node', () => {
  const files = sources(SRC).filter((file) => !relative(SRC, file).startsWith('node/'))

  it('has sources to check', () => {
    expect(files.length).toBeGreaterThan(10)
  })

  it.each([
    ['a node: import', /from ['"]node:|import\(['"]node:/],
    ['a Node global', /\b(process|Buffer|require|__dirname)\b[.(]/],
    ['the Node server adapter', /from ['"]@hono\/node-server/],
    ['pino', /from ['"]pino['"]/],
    ['the SQLite transport', /from ['"](@sync-engine\/sql-sqlite|better-sqlite3)/],
  ])('contains no %s', (_what, pattern) => {
    const offenders = files.filter((file) => pattern.test(readFileSync(file, 'utf8')))
    expect(offenders.map((file) => relative(SRC, file))).toEqual([])
  })
})
