import {
  detectRedisCapabilities,
  type RedisCommand,
  type RedisReply,
  RedisReplyError,
} from '@sync-engine/core/internal'
import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { describe, expect, it } from 'vitest'
import { describeWithRedis, redisUrl } from '../support/services.ts'

const bytes = (text: string) => new TextEncoder().encode(text)

/** A transport answering the three probes with canned replies, as the given server would. */
function server(commands: RedisReply, modules: RedisReply, info: RedisReply) {
  return {
    pipeline: async (sent: readonly RedisCommand[]) => {
      expect(sent.map((c) => c[0])).toEqual(['COMMAND', 'MODULE', 'INFO'])
      return [commands, modules, info]
    },
  }
}

const module = (name: string, ver: number): RedisReply => [bytes('name'), bytes(name), bytes('ver'), ver]

describe('capability detection', () => {
  it('finds RedisJSON and RediSearch 2.x (Redis 8, Redis Stack)', async () => {
    const detected = await detectRedisCapabilities(
      server(
        [[bytes('json.set')], [bytes('ft.search')]],
        [module('ReJSON', 80000), module('search', 80000)],
        bytes('cluster_enabled:0\r\n'),
      ),
    )
    expect(detected).toEqual({ json: true, search: true, cluster: false })
  })

  it('rejects RediSearch 1.x (Debian redis-redisearch) and sees a cluster', async () => {
    const detected = await detectRedisCapabilities(
      server(
        [null, [bytes('ft.search')]],
        [module('ft', 10206)],
        bytes('# Cluster\r\ncluster_enabled:1\r\n'),
      ),
    )
    expect(detected).toEqual({ json: false, search: false, cluster: true })
  })

  it('treats failed probes (managed services) as "not available"', async () => {
    const denied = new RedisReplyError('ERR unknown command')
    expect(await detectRedisCapabilities(server(denied, denied, denied))).toEqual({
      json: false,
      search: false,
      cluster: false,
    })
  })
})

describeWithRedis('capability detection on the local Redis', () => {
  it('reports booleans, and no modules where MODULE LIST is empty', async () => {
    const transport = await IoredisTransport.create(redisUrl())
    try {
      const detected = await transport.detectCapabilities()
      const modules = await transport.send(['MODULE', 'LIST'])
      if (Array.isArray(modules) && modules.length === 0) {
        expect(detected).toEqual({ json: false, search: false, cluster: false })
      } else {
        for (const flag of Object.values(detected)) expect(typeof flag).toBe('boolean')
      }
    } finally {
      await transport.close()
    }
  })
})
