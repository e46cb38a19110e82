import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'

/**
 * Ways an item key in Redis can hold something that is not a valid envelope of ours
 * (`packages/core/src/l2/envelope.ts`): foreign bytes, damaged envelopes, foreign JSON, and keys of
 * another Redis type. Each plants its garbage at `key`, given the value there now (if any).
 */
export interface Garbage {
  readonly name: string
  plant(redis: Redis, key: string, current: Buffer | null): Promise<void>
}

const setBytes = (bytes: Buffer | string) => (redis: Redis, key: string) =>
  redis.set(key, bytes).then(() => {})

/** A real envelope to damage, or a made-up one when the key holds none. */
function envelopeOr(current: Buffer | null): Buffer {
  if (current && current.length > 25 && current[0] === 0xff) return current
  const fake = Buffer.alloc(64)
  fake.set([0xff, 0x53, 0x45, 0x01], 0)
  fake.writeUInt32BE(fake.length, 12)
  return fake
}

/** DEL and the new type's write in one transaction: the engine may write the key in between otherwise. */
async function replaceWithType(
  redis: Redis,
  key: string,
  fill: (batch: ReturnType<Redis['multi']>) => unknown,
): Promise<void> {
  const batch = redis.multi().del(key)
  fill(batch)
  await batch.exec()
}

export const GARBAGE: readonly Garbage[] = [
  { name: 'random bytes', plant: (redis, key) => setBytes(randomBytes(48))(redis, key) },
  { name: 'empty string', plant: setBytes('') },
  { name: 'truncated JSON text', plant: setBytes('{"name":"Al') },
  { name: 'JSON that is not an envelope', plant: setBytes('{"not":"ours","version":1}') },
  {
    name: 'truncated envelope',
    plant: (redis, key, current) => {
      const envelope = envelopeOr(current)
      return setBytes(envelope.subarray(0, Math.floor(envelope.length / 2)))(redis, key)
    },
  },
  {
    name: 'padded envelope',
    plant: (redis, key, current) =>
      setBytes(Buffer.concat([envelopeOr(current), Buffer.from([0])]))(redis, key),
  },
  {
    name: 'envelope of an unknown format',
    plant: (redis, key, current) => {
      const envelope = Buffer.from(envelopeOr(current))
      envelope[3] = 9
      return setBytes(envelope)(redis, key)
    },
  },
  {
    name: 'envelope with unknown flags',
    plant: (redis, key, current) => {
      const envelope = Buffer.from(envelopeOr(current))
      envelope[16] = 0xf0
      return setBytes(envelope)(redis, key)
    },
  },
  { name: 'a hash', plant: (redis, key) => replaceWithType(redis, key, (b) => b.hset(key, 'v', 'x')) },
  { name: 'a list', plant: (redis, key) => replaceWithType(redis, key, (b) => b.rpush(key, 'a', 'b')) },
  { name: 'a set', plant: (redis, key) => replaceWithType(redis, key, (b) => b.sadd(key, 'm')) },
  { name: 'a sorted set', plant: (redis, key) => replaceWithType(redis, key, (b) => b.zadd(key, 1, 'm')) },
]

/**
 * An undecodable value whose 16 header bytes look valid and claim a version far above any real
 * one, with the right total length: only the bytes after the header are wrong (unknown flags).
 */
export function forgedHeader(): Buffer {
  const value = Buffer.alloc(64)
  value.set([0xff, 0x53, 0x45, 0x01], 0)
  // 2^52: above every hybrid-clock version until the year 2112.
  value.writeUInt32BE(2 ** 20, 4)
  value.writeUInt32BE(0, 8)
  value.writeUInt32BE(value.length, 12)
  value[16] = 0xf0
  return value
}
