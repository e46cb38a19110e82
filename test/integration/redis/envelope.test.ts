import {
  decodeEnvelope,
  encodeEnvelope,
  escapeGlob,
  isCorrupt,
  RedisKeyLayout,
  RedisStore,
  type StoredRecord,
} from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { describeWithRedis, redisUrl } from '../support/services.ts'

// Pure tests of the L2 encoding and key layout (no Redis); the conformance suite covers the rest.

const base: StoredRecord = {
  id: 'id',
  version: 1,
  updatedAt: 0,
  hash: 'ab'.repeat(32),
  state: 'default',
  contentType: 'binary',
  mime: 'application/octet-stream',
  content: Uint8Array.of(1, 2, 3),
  tombstone: false,
}

describe('envelope', () => {
  it('round-trips any record exactly', () => {
    fc.assert(
      fc.property(
        fc.record({
          version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
          updatedAt: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          hash: fc.oneof(fc.constant(''), fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hex)),
          state: fc.string({ unit: 'grapheme', maxLength: 64 }),
          mime: fc.string({ maxLength: 40 }),
          contentType: fc.constantFrom('json' as const, 'binary' as const),
          content: fc.uint8Array({ maxLength: 300 }),
          tombstone: fc.boolean(),
        }),
        (fields) => {
          const record: StoredRecord = {
            id: 'x',
            ...fields,
            content: fields.tombstone ? null : fields.content,
          }
          expect(decodeEnvelope('x', encodeEnvelope(record))).toEqual(record)
        },
      ),
    )
  })

  it('keeps every envelope intact while many more are encoded (shared slabs, never reused)', () => {
    // ~3,000 envelopes of 40–2,000 bytes span dozens of 64 KiB slabs; large ones get their own buffer.
    const records = Array.from({ length: 3_000 }, (_, i): StoredRecord => {
      const size = i % 500 === 0 ? 10_000 : (i * 37) % 2_000
      return {
        ...base,
        id: `n${i}`,
        version: i + 1,
        state: i % 2 ? 'default' : `s${i % 7}`,
        content: Uint8Array.from({ length: size }, (_, b) => (i + b) & 255),
      }
    })
    const values = records.map((record) => encodeEnvelope(record))
    // Flip one byte of one envelope: no other envelope may change.
    const flipped = values[1]!
    flipped[flipped.length - 1] = flipped[flipped.length - 1]! ^ 0xff
    records.forEach((record, i) => {
      if (i === 1) return
      expect(decodeEnvelope(record.id, values[i]!)).toEqual({ ...record, id: record.id })
    })
    expect(decodeEnvelope('n1', values[1]!)).not.toEqual(records[1])
  })

  it('gives the content its own exact buffer, not a view of the value', () => {
    const value = encodeEnvelope(base)
    const padded = new Uint8Array(value.length + 100)
    padded.set(value, 50)
    const decoded = decodeEnvelope('id', padded.subarray(50, 50 + value.length)) as StoredRecord
    expect(decoded.content!.buffer.byteLength).toBe(3)
  })

  it('reports every truncation and any padding as corrupt', () => {
    const value = encodeEnvelope({ ...base, state: 'ünïcode', mime: 'text/plain' })
    for (let length = 0; length < value.length; length++) {
      expect(isCorrupt(decodeEnvelope('id', value.subarray(0, length))), `length ${length}`).toBe(true)
    }
    expect(isCorrupt(decodeEnvelope('id', Uint8Array.from([...value, 0])))).toBe(true)
  })

  it('reports foreign bytes, unknown formats and flags as corrupt, never throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const decoded = decodeEnvelope('id', bytes)
        expect(isCorrupt(decoded) || typeof decoded.version === 'number').toBe(true)
      }),
    )
    const value = encodeEnvelope(base)
    const format = Uint8Array.from(value)
    format[3] = 2
    const flags = Uint8Array.from(value)
    flags[16] = flags[16]! | 0x80
    expect(isCorrupt(decodeEnvelope('id', format))).toBe(true)
    expect(isCorrupt(decodeEnvelope('id', flags))).toBe(true)
  })
})

describe('key layout', () => {
  it('keeps items, documents and internal keys in separate namespaces', () => {
    const keys = new RedisKeyLayout('app:', 16)
    const shard = keys.shardOf('x:internal')
    expect(keys.itemKey('x:internal')).toBe(`app:{${shard}}i:x:internal`)
    expect(keys.docKey('x:internal')).toBe(`app:{${shard}}j:x:internal`)
    expect(keys.internalKey('internal')).toBe('app:x:internal')
    expect(keys.shardKey(3, 'o:log')).toBe('app:{3}x:o:log')
    expect(keys.idOfItemKey(`app:{${shard}}i:x:internal`)).toBe('x:internal')
    expect(keys.idOfItemKey('app:x:internal')).toBeUndefined()
    expect(keys.idOfItemKey(`app:{${shard}}x:o:log`)).toBeUndefined()
    // The tag of another shard count (or a forged key) is not an item key of this layout.
    expect(keys.idOfItemKey(`app:{${(shard + 1) % 16}}i:x:internal`)).toBeUndefined()
  })

  it('puts an id in the same shard every time, spreads ids over every shard, and refuses braces in the prefix', () => {
    const keys = new RedisKeyLayout('app:', 8)
    const counts = new Array(8).fill(0)
    for (let n = 0; n < 8_000; n++) counts[keys.shardOf(`user:${n}`)]++
    expect(counts.every((count) => count > 800 && count < 1_200)).toBe(true)
    expect(new RedisKeyLayout('other:', 8).shardOf('user:7')).toBe(keys.shardOf('user:7'))
    expect(() => new RedisKeyLayout('a{b}:')).toThrow(/redisPrefix/)
    expect(() => new RedisKeyLayout('a:', 0)).toThrow(/redisShards/)
  })

  it('escapes glob metacharacters in both the prefix and the id prefix', () => {
    expect(escapeGlob('a*b?c[d]e\\f')).toBe('a\\*b\\?c\\[d\\]e\\\\f')
    expect(new RedisKeyLayout('p[1]:').itemPattern('x*')).toBe('p\\[1\\]:{*}i:x\\**')
  })
})

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

describeWithRedis('the key layout is shared by every instance over a prefix', () => {
  it('an instance with another shard count is refused at init, naming the setting', async () => {
    const prefix = `test:layout:${Date.now()}:`
    const transport = await IoredisTransport.create({ url: redisUrl() })
    try {
      await RedisStore.open(transport, { prefix, shards: 16 })
      await RedisStore.open(transport, { prefix, shards: 16 })
      await expect(RedisStore.open(transport, { prefix, shards: 4 })).rejects.toThrow(/SYNC_REDIS_SHARDS/)
    } finally {
      await transport.send(['DEL', `${prefix}x:layout`])
      await transport.close()
    }
  })
})
