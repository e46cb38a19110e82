import { RedisStore, type RedisStoreOptions } from '@sync-engine/core/internal'
import { UpstashTransport, type UpstashTransportOptions } from './upstash-transport.ts'

/** L2 on Upstash over REST: checks the token (PING), detects capabilities, closes on failure. */
export async function openUpstashStore(
  connection: UpstashTransportOptions,
  options?: RedisStoreOptions,
): Promise<RedisStore> {
  const transport = await UpstashTransport.create(connection)
  try {
    return await RedisStore.open(transport, options)
  } catch (error) {
    await transport.close()
    throw error
  }
}
