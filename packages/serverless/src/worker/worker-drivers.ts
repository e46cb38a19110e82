import { ConfigError, RedisStore } from '@sync-engine/core/internal'
import { UpstashTransport } from '@sync-engine/redis-upstash'
import { createPlanetScaleStore } from '@sync-engine/sql-planetscale'
import type { ServerlessDrivers } from '../serverless-drivers.ts'

/** A Worker's drivers: fetch only (the settings already refused redis:// and mysql:// URLs). */
export const workerDrivers: ServerlessDrivers = {
  async redis(settings, options) {
    if (settings.driver !== 'upstash')
      throw new ConfigError('a Worker reaches Redis through Upstash REST only', ['redisUrl'])
    return new RedisStore(
      await UpstashTransport.create({ url: settings.url, token: settings.token }),
      options,
    )
  },
  async sql(settings, table) {
    if (settings.driver !== 'planetscale')
      throw new ConfigError('a Worker reaches SQL through PlanetScale only', ['sqlUrl'])
    return createPlanetScaleStore({ url: settings.url, table })
  },
}
