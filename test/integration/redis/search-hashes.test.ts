import { randomBytes } from 'node:crypto'
import {
  type RedisCommand,
  RedisKeyLayout,
  RedisStore,
  type StoredRecord,
  SyncItem,
} from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { searchHashArguments, searchHashScript } from '../../../packages/core/src/l2/search-hash.ts'
import { RecordingRedisTransport } from '../support/recording-redis-transport.ts'
import { deleteRedisPrefix } from '../support/redis-cleanup.ts'
import { describeWithRedis, redisUrl } from '../support/services.ts'

/**
 * The projection hashes kept for a query engine without RedisJSON (search-hash.ts). What the store
 * sends is checked with a recording transport; the script itself runs on the real Redis here
 * (plain hash commands, no module needed), with the `search` capability forced on.
 */
const decoder = new TextDecoder()
const layout = new RedisKeyLayout('p:')
const i = (id: string) => layout.itemKey(id)
const h = (id: string) => layout.searchHashKey(id)

function jsonRecord(id: string, value: unknown, version: number): StoredRecord {
  return { ...SyncItem.fromJson(id, value), version, updatedAt: 1, tombstone: false }
}

function tombstone(id: string, version: number): StoredRecord {
  return { ...SyncItem.fromJson(id, null), version, updatedAt: 1, tombstone: true, content: null }
}

describe('search projection hashes (search without json)', () => {
  it('are written beside each envelope in the same pipeline, deleted with it, and skipped for a conditional write', async () => {
    const transport = new RecordingRedisTransport({ json: false, search: true, cluster: false })
    const store = await RedisStore.open(transport, { prefix: 'p:', searchProjections: true })
    const doc = jsonRecord('doc', { name: 'Zoë' }, 5)
    const binary: StoredRecord = { ...doc, id: 'bin', contentType: 'binary', content: Uint8Array.of(0, 255) }
    await store.write([
      { record: doc, ttlMs: 1000 },
      { record: binary },
      { record: tombstone('gone', 6) },
      { record: jsonRecord('cond', 1, 2), ifVersion: 1 },
    ])
    expect(transport.sent).toHaveLength(1)
    const commands = transport.sent[0]!
    expect(commands.map((c) => c.slice(2, 2 + Number(c[2]) + 1))).toEqual([
      [4, i('doc'), i('bin'), i('gone'), i('cond')],
      [1, h('doc')],
      [1, h('bin')],
      [1, h('gone')],
    ])
    // The hash script, by source the first time this runner sends it, by SHA after.
    const script = (c: RedisCommand) => c[1] === searchHashScript.sha || c[1] === searchHashScript.source
    expect(commands.slice(1).every(script)).toBe(true)
    expect(commands[1]!.slice(4)).toEqual(searchHashArguments(doc, 1000, false))
    expect(commands[1]!.slice(4, 8)).toEqual([5, 1000, 0, 'i'])
    expect(commands[2]!.slice(4)).toEqual([5, 0, 0])
    // A tombstone keeps its retention TTL, like its envelope.
    expect(commands[3]!.slice(4)).toEqual([6, 7 * 86_400_000, 0])

    transport.sent.length = 0
    await store.write([{ record: doc, repair: true }])
    expect(transport.sent[0]![1]!.slice(4, 7)).toEqual([5, 0, 1])

    transport.sent.length = 0
    await store.delete(['doc', 'bin'])
    expect(transport.sent[0]).toEqual([
      ['UNLINK', i('doc'), i('bin')],
      ['UNLINK', h('doc'), h('bin')],
    ])
  })

  it('are not written with RedisJSON (documents instead) nor without the query engine', async () => {
    for (const detected of [
      { json: true, search: true, cluster: false },
      { json: false, search: false, cluster: false },
    ]) {
      const transport = new RecordingRedisTransport(detected)
      const store = await RedisStore.open(transport, { prefix: 'p:', searchProjections: true })
      await store.write([{ record: jsonRecord('doc', { name: 'x' }, 1) }])
      const keys = transport.sent.flat().map((c) => c[3])
      expect(keys).not.toContain(h('doc'))
      expect(keys).toContain(i('doc'))
    }
  })
})

describeWithRedis('the projection hash script on the real server', () => {
  let transport: IoredisTransport
  let store: RedisStore
  const prefix = `sh:${randomBytes(4).toString('hex')}:`

  beforeAll(async () => {
    transport = await IoredisTransport.create(redisUrl())
    // This Redis has no query engine: forced on, the store keeps the hashes all the same.
    store = await RedisStore.open(transport, {
      prefix,
      capabilities: { search: true, json: false },
      searchProjections: true,
    })
  })

  afterAll(async () => {
    await deleteRedisPrefix(prefix)
    await transport?.close()
  })

  async function fields(id: string): Promise<Record<string, string>> {
    const reply = (await transport.send(['HGETALL', store.keys.searchHashKey(id)])) as Uint8Array[]
    const found: Record<string, string> = {}
    for (let n = 0; n + 1 < reply.length; n += 2)
      found[decoder.decode(reply[n])] = decoder.decode(reply[n + 1])
    return found
  }

  const expected = (record: StoredRecord) => {
    const [version, , , ...pairs] = searchHashArguments(record, 0, false).map(String)
    const hash: Record<string, string> = { v: version! }
    for (let n = 0; n + 1 < pairs.length; n += 2) hash[pairs[n]!] = pairs[n + 1]!
    return hash
  }

  it('compiles, with the SHA the store computes', async () => {
    const sha = await transport.send(['SCRIPT', 'LOAD', searchHashScript.source])
    expect(decoder.decode(sha as Uint8Array)).toBe(searchHashScript.sha)
  })

  it('keeps the newest version only, drops fields an older version had, and a tombstone keeps just its version', async () => {
    const v2 = jsonRecord('a', { kind: 'x', n: 1, old: 'gone soon' }, 2)
    await store.write([{ record: v2 }])
    expect(await fields('a')).toEqual(expected(v2))
    expect(Object.keys(await fields('a')).length).toBeGreaterThan(6)
    const v3 = jsonRecord('a', { kind: 'y' }, 3)
    await store.write([{ record: v3 }])
    expect(await fields('a')).toEqual(expected(v3))
    // A delayed older write changes nothing.
    await store.write([{ record: v2 }])
    expect(await fields('a')).toEqual(expected(v3))
    await store.write([{ record: tombstone('a', 4) }])
    expect(await fields('a')).toEqual({ v: '4' })
    // Nor can an older write bring the deleted item back to search.
    await store.write([{ record: v3 }])
    expect(await fields('a')).toEqual({ v: '4' })
    // The tombstone expires with its envelope's retention.
    expect(await transport.send(['PTTL', store.keys.searchHashKey('a')])).toBeGreaterThan(0)
  })

  it('replaces the same version only on repair, sets and clears the TTL, and replaces what is not its own', async () => {
    const first = jsonRecord('b', { kind: 'x' }, 7)
    const same = jsonRecord('b', { kind: 'z' }, 7)
    await store.write([{ record: first, ttlMs: 60_000 }])
    expect(await transport.send(['PTTL', store.keys.searchHashKey('b')])).toBeGreaterThan(0)
    await store.write([{ record: same }])
    expect(await fields('b')).toEqual(expected(first))
    await store.write([{ record: same, repair: true }])
    expect(await fields('b')).toEqual(expected(same))
    expect(await transport.send(['PTTL', store.keys.searchHashKey('b')])).toBe(-1)
    // A string at the key, or a hash without a numeric version: not a projection hash, replaced.
    await transport.send(['SET', store.keys.searchHashKey('c'), 'junk'])
    const c = jsonRecord('c', { kind: 'x' }, 1)
    await store.write([{ record: c }])
    expect(await fields('c')).toEqual(expected(c))
    await transport.send(['DEL', store.keys.searchHashKey('d')])
    await transport.send(['HSET', store.keys.searchHashKey('d'), 'v', 'many', 'stray', '1'])
    const d = jsonRecord('d', { kind: 'x' }, 1)
    await store.write([{ record: d }])
    expect(await fields('d')).toEqual(expected(d))
  })

  it('sets every field of a content with many paths (HSET in slices under Lua’s unpack limit)', async () => {
    const wide = Object.fromEntries(Array.from({ length: 3000 }, (_, n) => [`f${n}`, `w${n}`]))
    const record = jsonRecord('wide', wide, 1)
    expect(searchHashArguments(record, 0, false).length).toBeGreaterThan(8000)
    await store.write([{ record }])
    expect(await fields('wide')).toEqual(expected(record))
  })
})
