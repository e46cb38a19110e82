import { randomBytes } from 'node:crypto'
import { escapeGlob, loadConfig, RedisKeyLayout, SyncItem } from '@sync-engine/core/internal'
import { createEngineFromConfig } from '@sync-engine/node'
import { Redis } from 'ioredis'
import { afterAll, expect, it } from 'vitest'
import { main } from '../../packages/cli/src/main.ts'
import {
  describeWithMysql,
  describeWithRedis,
  mysqlTables,
  mysqlUrl,
  redisUrl,
} from '../integration/support/services.ts'
import { memoryIo } from './support/memory-io.ts'

const tables = mysqlTables()
const prefix = `test:cliob:${randomBytes(4).toString('hex')}:`

describeWithRedis('sync-engine flush-outbox', () => {
  describeWithMysql('over MariaDB', () => {
    const table = tables.next()
    const env = {
      SYNC_LOG: 'redis',
      SYNC_REDIS_URL: redisUrl(),
      SYNC_SQL_URL: mysqlUrl(),
      SYNC_SQL_TABLE: table,
      SYNC_REDIS_PREFIX: prefix,
      SYNC_LOG_LEVEL: 'silent',
    }

    afterAll(async () => {
      const redis = new Redis(redisUrl())
      const keys = await redis.keys(`${escapeGlob(prefix)}*`)
      if (keys.length > 0) await redis.unlink(...keys)
      redis.disconnect()
      await tables.dropAll()
    })

    it('drains what a server with SYNC_LOG=redis acknowledged as logged, and prints the counts', async () => {
      const engine = await createEngineFromConfig(loadConfig({ env }))
      await engine.start()
      const receipts = await Promise.all(
        ['a', 'b', 'c'].map((id) => engine.submit(SyncItem.fromJson(id, { id }))),
      )
      expect(receipts.every((receipt) => receipt.ack === 'logged')).toBe(true)
      await engine.shutdown()
      const redis = new Redis(redisUrl())
      const layout = new RedisKeyLayout(prefix)
      expect(await redis.exists(layout.itemKey('a'))).toBe(1)
      redis.disconnect()

      const io = memoryIo({ env })
      expect(await main(['flush-outbox', '--max-seconds', '20'], io)).toBe(0)
      expect(JSON.parse(io.stdoutText())).toEqual({
        drained: 3,
        stale: 0,
        failed: 0,
        rejected: 0,
        left: 0,
        busy: 0,
        stopped: false,
      })
      const again = memoryIo({ env })
      expect(await main(['flush-outbox'], again)).toBe(0)
      expect(JSON.parse(again.stdoutText())).toMatchObject({ drained: 0, left: 0 })
    })

    it('exits 2 naming the setting when no Redis or no SQL is configured (never the embedded default)', async () => {
      const io = memoryIo({ env: { SYNC_SQL_URL: mysqlUrl() } })
      expect(await main(['flush-outbox'], io)).toBe(2)
      expect(io.stderrText()).toContain('SYNC_REDIS_URL')
      const zero = memoryIo({ env })
      expect(await main(['flush-outbox', '--max-seconds', '0'], zero)).toBe(2)
      expect(zero.stderrText()).toContain('at least 1')
      const noSql = memoryIo({ env: { SYNC_REDIS_URL: redisUrl(), SYNC_REDIS_PREFIX: prefix } })
      expect(await main(['flush-outbox'], noSql)).toBe(2)
      expect(noSql.stderrText()).toContain('SYNC_SQL_URL')
    })

    it('refuses to drain into another table than the one its pending writes were acknowledged for', async () => {
      const engine = await createEngineFromConfig(loadConfig({ env }))
      await engine.start()
      await engine.submit(SyncItem.fromJson('pending', 1))
      await engine.shutdown()
      const io = memoryIo({ env: { ...env, SYNC_SQL_TABLE: tables.next() } })
      expect(await main(['flush-outbox'], io)).toBe(1)
      expect(io.stderrText()).toContain(table)
      const right = memoryIo({ env })
      expect(await main(['flush-outbox'], right)).toBe(0)
      expect(JSON.parse(right.stdoutText())).toMatchObject({ drained: 1, left: 0 })
    })
  })
})
