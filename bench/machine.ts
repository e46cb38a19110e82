import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'

export interface MachineInfo {
  readonly date: string
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  /** 1-minute load average when the run started, and when it ended (set by the runner). */
  readonly loadStart: number
  readonly loadEnd?: number
  readonly os: string
  readonly node: string
  readonly v8: string
  readonly commit: string
  readonly packages: Readonly<Record<string, string>>
  /** Server versions (Redis, MariaDB), or why they were not reachable. */
  readonly services: Readonly<Record<string, string>>
}

const ROOT = join(import.meta.dirname, '..')

/** The version in node_modules/<pkg>/package.json (what actually ran, not the range in package.json). */
export function installedVersion(pkg: string): string {
  try {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8'))
    return String(manifest.version)
  } catch {
    return 'not installed'
  }
}

function sqliteVersion(): string {
  const db = new Database(':memory:')
  try {
    return (db.prepare('select sqlite_version() as v').get() as { v: string }).v
  } finally {
    db.close()
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    // The report itself is rewritten by every run: it does not make the tree dirty.
    const dirty = execFileSync('git', ['status', '--porcelain', '--', '.', ':!docs/benchmarks.md'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim()
    return dirty ? `${head} (with uncommitted changes)` : head
  } catch {
    return 'unknown'
  }
}

export function machineInfo(services: Readonly<Record<string, string>>): MachineInfo {
  const cpus = os.cpus()
  return {
    date: new Date().toISOString(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    loadStart: os.loadavg()[0] ?? Number.NaN,
    os: `${os.type()} ${os.release()} (${os.platform()}/${os.arch()})`,
    node: process.version,
    v8: process.versions.v8,
    commit: gitCommit(),
    packages: {
      'lru-cache': installedVersion('lru-cache'),
      'better-sqlite3': installedVersion('better-sqlite3'),
      SQLite: sqliteVersion(),
      ioredis: installedVersion('ioredis'),
      mysql2: installedVersion('mysql2'),
      bentocache: installedVersion('bentocache'),
      tsx: installedVersion('tsx'),
    },
    services,
  }
}
