import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** Deterministic PRNG (mulberry32): every run sees the same keys, values and access pattern. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const FIRST = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances', 'Edsger', 'Radia']
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Liskov', 'Thompson', 'Hamilton', 'Ritchie', 'Allen']
const CITIES = ['Lisbon', 'Oslo', 'Nairobi', 'Osaka', 'Quito', 'Tallinn', 'Hobart', 'Accra']
const TAGS = ['admin', 'beta', 'trial', 'pro', 'team', 'edu', 'legacy', 'vip']

export const TARGET_VALUE_BYTES = 200

/** Ids `user:000000` … (11 characters), index-aligned with `makeValues`. */
export function makeIds(count: number, prefix = 'user:'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(6, '0')}`)
}

/**
 * JSON objects of about `TARGET_VALUE_BYTES` bytes serialised (a user-profile shape: strings,
 * numbers, a boolean, an array, a nested object). A `pad` string tops each one up to the target.
 */
export function makeValues(count: number, seed = 42): Record<string, unknown>[] {
  const rand = prng(seed)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!
  const values: Record<string, unknown>[] = []
  for (let i = 0; i < count; i++) {
    const first = pick(FIRST)
    const last = pick(LAST)
    const value: Record<string, unknown> = {
      n: i,
      name: `${first} ${last}`,
      email: `${first.toLowerCase()}.${last.toLowerCase()}${i}@example.org`,
      age: 18 + Math.floor(rand() * 60),
      active: rand() < 0.8,
      score: Math.round(rand() * 1e6) / 100,
      tags: [pick(TAGS), pick(TAGS)],
      address: { city: pick(CITIES), zip: String(10000 + Math.floor(rand() * 89999)) },
      pad: '',
    }
    const short = TARGET_VALUE_BYTES - JSON.stringify(value).length
    value.pad = 'x'.repeat(Math.max(0, short))
    values.push(value)
  }
  return values
}

/** A random access sequence over `[0, keyCount)`, uniform, deterministic. */
export function accessPattern(length: number, keyCount: number, seed = 7): Uint32Array {
  const rand = prng(seed)
  const pattern = new Uint32Array(length)
  for (let i = 0; i < length; i++) pattern[i] = Math.floor(rand() * keyCount)
  return pattern
}

/** One temp directory for the whole run, removed by `cleanup()` (also on Ctrl-C). */
export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'sync-engine-bench-'))
  #counter = 0

  /** A fresh, not yet existing, SQLite file path. */
  file(label: string): string {
    return join(this.path, `${label}-${++this.#counter}.db`)
  }

  /** A fresh, empty directory (e.g. a server's data dir). */
  dir(label: string): string {
    const path = join(this.path, `${label}-${++this.#counter}`)
    mkdirSync(path)
    return path
  }

  /** Deletes a SQLite file and its WAL/SHM companions. */
  removeDb(path: string): void {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true })
  }

  cleanup(): void {
    rmSync(this.path, { recursive: true, force: true })
  }
}

let gcFn: (() => void) | undefined

/** A full GC between measured runs, so one run's garbage is not collected during the next. */
export function collectGarbage(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc')
    gcFn = runInNewContext('gc') as () => void
  }
  gcFn()
}
