import { RedisStore } from '@sync-engine/core/internal'
import type { ServerlessDrivers } from '../serverless-drivers.ts'

/**
 * Every driver a Lambda function may be configured with, each imported on first use: the bundle
 * keeps ioredis and mysql2 in chunks of their own, loaded only when `SYNC_REDIS_URL` or
 * `SYNC_SQL_URL` names them (ElastiCache, RDS in a VPC); Upstash and PlanetScale otherwise.
 */
export const lambdaDrivers: ServerlessDrivers = {
  async redis(settings, options) {
    if (settings.driver === 'upstash') {
      const { UpstashTransport } = await import('@sync-engine/redis-upstash')
      return new RedisStore(
        await UpstashTransport.create({ url: settings.url, token: settings.token }),
        options,
      )
    }
    const { IoredisTransport } = await import('@sync-engine/redis-ioredis')
    // Not waiting for the server: an unreachable Redis degrades the engine instead of failing it.
    return new RedisStore(
      await IoredisTransport.create({ url: settings.url, waitForConnect: false }),
      options,
    )
  },
  async sql(settings, table) {
    if (settings.driver === 'planetscale') {
      const { createPlanetScaleStore } = await import('@sync-engine/sql-planetscale')
      return createPlanetScaleStore({ url: settings.url, table })
    }
    const { createMysqlStore } = await import('@sync-engine/sql-mysql2')
    return createMysqlStore({ url: settings.url, table })
  },
}
