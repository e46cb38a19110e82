import { randomBytes } from 'node:crypto'
import { afterAll } from 'vitest'
import { deleteRedisPrefix } from '../integration/support/redis-cleanup.ts'
import {
  describeWithMysql,
  describeWithRedis,
  mysqlTables,
  mysqlUrl,
  redisUrl,
} from '../integration/support/services.ts'
import { lambdaTarget } from './contract-targets.ts'
import { httpContract } from './http-contract.ts'

/**
 * The Lambda API bundle over ElastiCache-style Redis (ioredis) and MySQL (mysql2), invoked with
 * API Gateway v2 events and with Function URL events: the same handler, the same contract.
 */
const TOKEN = `lambda-${randomBytes(12).toString('hex')}`
const prefix = `test:clam:${randomBytes(4).toString('hex')}:`
const tables = mysqlTables()

describeWithRedis('Lambda API', () => {
  describeWithMysql('over ioredis and mysql2', () => {
    Object.assign(process.env, {
      SYNC_REDIS_URL: redisUrl(),
      SYNC_SQL_URL: mysqlUrl(),
      SYNC_SQL_TABLE: tables.next(),
      SYNC_REDIS_PREFIX: prefix,
      SYNC_API_TOKENS: TOKEN,
      SYNC_LOG_LEVEL: 'warn',
    })
    afterAll(async () => {
      await deleteRedisPrefix(prefix)
      await tables.dropAll()
    })
    httpContract('Lambda, API Gateway v2 events', () => lambdaTarget(TOKEN, 'api-gateway'))
    httpContract('Lambda, Function URL events', () => lambdaTarget(TOKEN, 'function-url'))
  })
})
