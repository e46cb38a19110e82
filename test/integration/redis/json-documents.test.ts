import { RedisKeyLayout, RedisStore, type StoredRecord, SyncItem } from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { describe, expect, it } from 'vitest'
import { RecordingRedisTransport } from '../support/recording-redis-transport.ts'
import { describeWithRedis, redisUrl } from '../support/services.ts'

/**
 * The RedisJSON path cannot run here (Redis 7.0 without modules), so this checks what it sends:
 * with `json` on, every write also runs the document script on `<prefix>j:<id>` in the same
 * pipeline, with the document the search issue will index. The scripts themselves are compiled
 * by the real server below (SCRIPT LOAD), which also checks the SHA the store computes.
 */
const decoder = new TextDecoder()
const layout = new RedisKeyLayout('p:')
const i = (id: string) => layout.itemKey(id)
const j = (id: string) => layout.docKey(id)

describe('RedisJSON search documents (json capability)', () => {
  it('are not kept unless the store is asked to (searchBackend "redis"): one script less a write', async () => {
    const transport = new RecordingRedisTransport()
    const store = await RedisStore.open(transport, { prefix: 'p:' })
    expect(store.searchProjections).toBe(false)
    await store.write([{ record: { ...SyncItem.fromJson('doc', { n: 1 }), version: 5, tombstone: false } }])
    const keys = transport.sent.flat().map((command) => command[3])
    expect(keys).toContain(i('doc'))
    expect(keys).not.toContain(j('doc'))
  })

  it('writes a document beside each envelope, in the same pipeline', async () => {
    const transport = new RecordingRedisTransport()
    const store = await RedisStore.open(transport, { prefix: 'p:', searchProjections: true })
    const item = SyncItem.fromJson('doc', { name: 'Zoë', n: [1, 2] }, { state: 'live' })
    const json: StoredRecord = { ...item, version: 5, updatedAt: 9, tombstone: false }
    const binary: StoredRecord = { ...json, id: 'bin', contentType: 'binary', content: Uint8Array.of(0, 255) }
    const tomb: StoredRecord = { ...json, id: 'gone', tombstone: true, content: null, hash: '' }
    await store.write([{ record: json, ttlMs: 1000 }, { record: binary }, { record: tomb }])

    expect(transport.sent).toHaveLength(1)
    const commands = transport.sent[0]!
    // The envelopes in one batched guard call (one server), then one document script per key.
    expect(commands.map((c) => c.slice(2, 2 + Number(c[2]) + 1))).toEqual([
      [3, i('doc'), i('bin'), i('gone')],
      [1, j('doc')],
      [1, j('bin')],
      [1, j('gone')],
    ])
    const docs = commands.slice(1).map((c) => JSON.parse(decoder.decode(c[5] as Uint8Array)))
    expect(docs[0]).toEqual({
      v: 5,
      u: 9,
      h: item.hash,
      s: 'live',
      m: 'application/json',
      t: 0,
      d: { name: 'Zoë', n: [1, 2] },
      x: { i: 'v646f63', e: 0, p: { name: { t: ['v5a6f800eb'], w: ['v7a6f65'] } } },
    })
    expect(docs[1]).toMatchObject({ v: 5, t: 0, d: null })
    expect(docs[2]).toMatchObject({ v: 5, t: 1, d: null })
    expect(commands[1]?.[6]).toBe(1000)

    transport.sent.length = 0
    await store.delete(['doc', 'bin'])
    expect(transport.sent[0]).toEqual([
      ['UNLINK', i('doc'), i('bin')],
      ['UNLINK', j('doc'), j('bin')],
    ])
  })

  it('uses one single-key command per key when the server is a cluster', async () => {
    const transport = new RecordingRedisTransport()
    const store = await RedisStore.open(transport, {
      prefix: 'p:',
      // Neither documents nor projection hashes: this case is about the envelopes' commands.
      capabilities: { cluster: true, json: false, search: false },
    })
    const record = (id: string): StoredRecord => ({
      ...SyncItem.fromJson(id, 1),
      version: 2,
      updatedAt: 3,
      tombstone: false,
    })
    await store.write([{ record: record('a') }, { record: record('b') }])
    expect(transport.sent[0]!.map((c) => [c[2], c[3]])).toEqual([
      [1, i('a')],
      [1, i('b')],
    ])
    transport.sent.length = 0
    await store.read(['a', 'b'])
    await store.delete(['a', 'b'])
    expect(transport.sent).toEqual([
      [
        ['GET', i('a')],
        ['GET', i('b')],
      ],
      [
        ['UNLINK', i('a')],
        ['UNLINK', i('b')],
      ],
    ])
  })
})

describeWithRedis('Lua scripts on the real server', () => {
  it('compile, and the server computes the same SHA as the store', async () => {
    const { versionGuardBatchScript, versionGuardScript } = await import(
      '../../../packages/core/src/l2/version-guard-script.ts'
    )
    const { jsonDocumentScript } = await import('../../../packages/core/src/l2/json-document.ts')
    const transport = await IoredisTransport.create(redisUrl())
    try {
      for (const script of [versionGuardScript, versionGuardBatchScript, jsonDocumentScript]) {
        const sha = await transport.send(['SCRIPT', 'LOAD', script.source])
        expect(decoder.decode(sha as Uint8Array)).toBe(script.sha)
      }
    } finally {
      await transport.close()
    }
  })
})
