import { escapeGlob } from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { deleteMatching } from '../conformance/l2-records.ts'
import { redisUrl } from './services.ts'

/** Deletes every key under `prefix` (taken literally) on the test Redis: a file's own keys only, never FLUSHDB. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const cleaner = await IoredisTransport.create({ url: redisUrl() })
  try {
    await deleteMatching(cleaner, `${escapeGlob(prefix)}*`)
  } finally {
    await cleaner.close()
  }
}
