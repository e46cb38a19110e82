import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * The tree's own rules, checked so that they stay true: no source file over 500 lines, the
 * engine facade at most 400 (it delegates; features arrive as new modules), and a core that runs
 * on every runtime (no `node:` module, no driver: only its own dependencies).
 */
const root = join(import.meta.dirname, '..', '..', '..')
const packages = join(root, 'packages')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory())
      return entry.name === 'node_modules' || entry.name === 'dist' ? [] : sourceFiles(path)
    return /\.(ts|mts|mjs|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').length - 1
const files = readdirSync(packages).flatMap((name) => sourceFiles(join(packages, name, 'src')))

describe('the source tree', () => {
  it('has no source file over 500 lines', () => {
    expect(files.length).toBeGreaterThan(100)
    const long = files.filter((path) => lines(path) > 500).map((path) => relative(root, path))
    expect(long).toEqual([])
  })

  it('keeps the engine facade at 400 lines at most', () => {
    expect(lines(join(packages, 'core', 'src', 'engine', 'sync-engine.ts'))).toBeLessThanOrEqual(400)
  })

  it('keeps the core free of node: modules and drivers', () => {
    const manifest = JSON.parse(readFileSync(join(packages, 'core', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
    }
    const allowed = new Set(Object.keys(manifest.dependencies))
    const offending: string[] = []
    for (const path of sourceFiles(join(packages, 'core', 'src'))) {
      for (const [, specifier] of readFileSync(path, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        if (specifier === undefined || specifier.startsWith('.')) continue
        const name = specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : specifier.split('/')[0]!
        if (!allowed.has(name)) offending.push(`${relative(root, path)}: ${specifier}`)
      }
    }
    expect(offending).toEqual([])
  })
})
