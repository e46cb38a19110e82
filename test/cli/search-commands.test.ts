import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SyncItem } from '@sync-engine/core'
import { type RunningServer, startServer } from '@sync-engine/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../packages/cli/src/main.ts'
import { memoryIo } from './support/memory-io.ts'

let server: RunningServer
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sync-cli-search-'))
  server = await startServer({ config: { dataDir: dir, port: 0, logLevel: 'silent' } })
  for (const [id, value] of [
    ['user:ada', { plan: 'pro', age: 36 }],
    ['user:bob', { plan: 'free', age: 41 }],
    ['user:cy', { plan: 'pro', age: 29 }],
  ] as const) {
    await server.engine.submit(SyncItem.fromJson(id, value))
  }
})
afterAll(async () => {
  await server?.close()
  await rm(dir, { recursive: true, force: true })
})

const run = async (args: string[]) => {
  const io = memoryIo({ env: { SYNC_URL: server.url } })
  const code = await main(args, io)
  return { code, out: io.stdoutText(), err: io.stderrText() }
}

const definition = JSON.stringify({
  prefix: 'user:',
  fields: { plan: { type: 'tag', path: '$.plan' }, age: { type: 'numeric', path: '$.age', sortable: true } },
})

describe('sync-engine index and search', () => {
  it('creates an index (then unchanged), lists it, searches it page by page, drops it', async () => {
    expect(await run(['index', 'create', 'users', definition])).toMatchObject({
      code: 0,
      out: 'created users\n',
    })
    expect(await run(['index', 'create', 'users', definition])).toMatchObject({
      code: 0,
      out: 'unchanged users\n',
    })
    const listed = await run(['index', 'list'])
    expect(JSON.parse(listed.out).map((index: { name: string }) => index.name)).toEqual(['users'])

    const query = '{"eq":{"field":"plan","value":"pro"}}'
    const first = await run(['search', 'users', query, '--sort', 'age:desc', '--limit', '1'])
    expect(first.code).toBe(0)
    expect(JSON.parse(first.out)).toMatchObject({ id: 'user:ada' })
    const cursor = /next: --cursor (\S+)/.exec(first.err)?.[1]
    expect(cursor).toBeDefined()
    const second = await run([
      'search',
      'users',
      query,
      '--sort',
      'age:desc',
      '--limit',
      '1',
      '--cursor',
      cursor!,
      '--values',
    ])
    expect(JSON.parse(second.out)).toMatchObject({ id: 'user:cy', value: { plan: 'pro', age: 29 } })
    expect(second.err).toBe('')

    expect(await run(['index', 'drop', 'users'])).toMatchObject({ code: 0, out: 'dropped users\n' })
    expect((await run(['index', 'drop', 'users'])).code).toBe(1)
  })

  it('exits 2 for bad usage (not JSON, a bad --sort) and 1 with the server’s problem for a bad query', async () => {
    expect(await run(['search', 'users', '{nope'])).toMatchObject({ code: 2 })
    expect((await run(['search', 'users', '{}', '--sort', 'age:sideways'])).code).toBe(2)
    expect((await run(['index', 'frobnicate'])).code).toBe(2)
    await run(['index', 'create', 'users2', definition])
    const bad = await run(['search', 'users2', '{"eq":{"field":"agee","value":1}}'])
    expect(bad.code).toBe(1)
    expect(bad.err).toContain('agee')
  })
})

describe('sync-engine ls and clear', () => {
  it('lists by prefix page by page, refuses clear without --yes, and clears a prefix', async () => {
    const first = await run(['ls', '--prefix', 'user:', '--limit', '2'])
    expect(
      first.out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).id),
    ).toEqual(['user:ada', 'user:bob'])
    const cursor = /next: --cursor (\S+)/.exec(first.err)?.[1]
    const second = await run(['ls', '--prefix', 'user:', '--cursor', cursor!, '--limit', '2'])
    expect(
      second.out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).id),
    ).toEqual(['user:cy'])
    expect((await run(['clear', '--prefix', 'user:'])).code).toBe(2)
    expect((await run(['clear', '--yes'])).code).toBe(2)
    expect(await run(['clear', '--prefix', 'user:b', '--yes'])).toMatchObject({ code: 0, out: 'deleted 1\n' })
    expect((await run(['ls', '--prefix', 'user:'])).out.trim().split('\n')).toHaveLength(2)
  })
})

describe('sync-engine partition', () => {
  it('adds a partition (then unchanged), lists it, and refuses one over stored ids', async () => {
    const added = await run(['partition', 'add', 'order:'])
    expect(added).toMatchObject({ code: 0 })
    expect(added.out).toMatch(/^added order: → \S+_p1\n$/)
    expect(await run(['partition', 'add', 'order:'])).toMatchObject({ code: 0, out: 'unchanged order:\n' })
    expect(JSON.parse((await run(['partition', 'list'])).out)).toEqual([
      { prefix: 'order:', table: expect.stringMatching(/_p1$/) },
    ])
    const refused = await run(['partition', 'add', 'user:'])
    expect(refused.code).toBe(1)
    expect(refused.err).toMatch(/stored already/)
    expect((await run(['partition', 'nope'])).code).toBe(2)
  })
})

describe('sync-engine clear on a large prefix', () => {
  it('deletes in bounded steps and shows its progress on stderr, the result alone on stdout', async () => {
    await server.engine.submitMany(
      Array.from({ length: 1_200 }, (_, n) => SyncItem.fromJson(`bulk:${n}`, { n })),
      { ack: 'stored' },
    )
    const cleared = await run(['clear', '--prefix', 'bulk:', '--yes'])
    expect(cleared).toMatchObject({ code: 0, out: 'deleted 1200\n' })
    expect(cleared.err.split('\n').filter(Boolean)).toEqual(['deleting 500 of 1200', 'deleting 1000 of 1200'])
    expect(await server.engine.countItems({ prefix: 'bulk:' })).toBe(0)
  })
})

describe('a long backfill', () => {
  it('lets the server answer other requests meanwhile, and says how far it got', async () => {
    await server.engine.submitMany(
      Array.from({ length: 10_000 }, (_, n) => SyncItem.fromJson(`long:${n}`, { n })),
      { ack: 'stored' },
    )
    let done = false
    const defining = fetch(`${server.url}/v1/indexes/long`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prefix: 'long:', fields: { n: { type: 'numeric', path: '$.n' } } }),
    }).then((response) => {
      done = true
      return response.status
    })
    // Asked while the PUT runs: answered only if the backfill lets the server serve requests.
    const seen: unknown[] = []
    while (!done) {
      const response = await fetch(`${server.url}/v1/indexes/long`)
      const status = (await response.json()) as { state?: string; covered?: number }
      if (!done && status.state === 'building') seen.push(status.covered)
    }
    expect(await defining).toBe(201)
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.some((covered) => typeof covered === 'number' && covered > 0)).toBe(true)
  })
})
