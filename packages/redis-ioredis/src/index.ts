export { IoredisTransport, type IoredisTransportOptions } from './ioredis-transport.ts'
export { openRedisStore } from './open-redis-store.ts'
