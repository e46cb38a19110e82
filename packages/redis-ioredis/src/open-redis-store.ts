import { RedisStore, type RedisStoreOptions } from '@sync-engine/core/internal'
import { IoredisTransport, type IoredisTransportOptions } from './ioredis-transport.ts'

/** L2 on Redis over ioredis: connects, detects capabilities, and closes the connection on failure. */
export async function openRedisStore(
  connection: IoredisTransportOptions | string,
  options?: RedisStoreOptions,
): Promise<RedisStore> {
  const transport = await IoredisTransport.create(connection)
  try {
    return await RedisStore.open(transport, options)
  } catch (error) {
    await transport.close()
    throw error
  }
}
