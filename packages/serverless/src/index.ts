export { jsonLogger } from './json-logger.ts'
export type { ServerlessDrivers } from './serverless-drivers.ts'
export { type OutboxFlusher, startOutboxFlusher, startServerlessApp } from './serverless-engine.ts'
export {
  type RedisSettings,
  SERVERLESS_ENV,
  type ServerlessRuntime,
  type ServerlessSettings,
  type SqlSettings,
  serverlessSettings,
} from './serverless-settings.ts'
