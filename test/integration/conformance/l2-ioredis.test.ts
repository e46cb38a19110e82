import { IoredisTransport } from '@sync-engine/redis-ioredis'
import { describeWithRedis, redisUrl } from '../support/services.ts'
import { runL2Conformance } from './l2-conformance.ts'

describeWithRedis('ioredis against the local Redis', () => {
  runL2Conformance('ioredis', () => IoredisTransport.create({ url: redisUrl() }))
})
