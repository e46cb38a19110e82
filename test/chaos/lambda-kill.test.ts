import { randomBytes } from 'node:crypto'
import type { AckLevel } from '@sync-engine/core'
import type { FlushOutboxReport } from '@sync-engine/core/internal'
import { createMysqlStore } from '@sync-engine/sql-mysql2'
import { afterAll, expect, it } from 'vitest'
import {
  type HttpResult,
  httpEvent,
  type LambdaProcess,
  lambdaProcesses,
} from '../contract/lambda-process.ts'
import { deleteRedisPrefix } from '../integration/support/redis-cleanup.ts'
import {
  describeWithMysql,
  describeWithRedis,
  mysqlTables,
  mysqlUrl,
  redisUrl,
} from '../integration/support/services.ts'
import { checkFinalState, checkHistory, checkNoPhantoms } from './support/check-history.ts'
import { History, type Observed, type WriteResult } from './support/history.ts'
import { listLiveIds, readL3State } from './support/l3-state.ts'
import { startLoad } from './support/load.ts'
import { describeRun, describeViolations } from './support/report.ts'
import type { WriteTarget } from './support/write-target.ts'

/**
 * Lambda under faults, judged by the chaos suite's history checker: writers drive the API bundle
 * (in a process of its own, as the Lambda runtime runs it), the process is killed with SIGKILL
 * in the middle of the load and a new one takes over (a new execution environment, empty L1), a
 * flusher is killed mid-run and run again, and at the end every acknowledged write must be in
 * SQL at its latest version, nothing deleted back, nothing duplicated.
 */
const token = `lkill-${randomBytes(12).toString('hex')}`
const prefix = `test:lkill:${randomBytes(4).toString('hex')}:`
const tables = mysqlTables()

/** The Lambda process (whichever is current) as a write target; a write cut off by a kill is unknown. */
function lambdaWrites(current: () => LambdaProcess): WriteTarget {
  const write = async (method: string, id: string, body?: string): Promise<WriteResult> => {
    let reply: { result: HttpResult; error?: string }
    try {
      reply = await current().invoke(
        httpEvent(method, `/v1/items/${encodeURIComponent(id)}`, {
          token,
          ...(body !== undefined && { body, contentType: 'text/plain' }),
        }),
      )
    } catch (error) {
      return { kind: 'unknown', reason: String(error) }
    }
    if (reply.error !== undefined) return { kind: 'unknown', reason: reply.error }
    const { statusCode, body: answer } = reply.result
    if (statusCode === 204) return { kind: 'acked', ack: 'logged' }
    if (statusCode === 200 || statusCode === 201) {
      const receipt = JSON.parse(answer) as { version: number; ack: AckLevel }
      return { kind: 'acked', ack: receipt.ack, version: receipt.version }
    }
    return statusCode < 500 ? { kind: 'failed', reason: answer } : { kind: 'unknown', reason: answer }
  }
  return {
    put: (id, content) => write('PUT', id, content),
    delete: (id) => write('DELETE', id),
    async get(id): Promise<Observed> {
      const { result } = await current().invoke(
        httpEvent('GET', `/v1/items/${encodeURIComponent(id)}`, { token }),
      )
      if (result.statusCode === 404) return { present: false }
      if (result.statusCode !== 200) throw new Error(`GET ${id}: ${result.statusCode} ${result.body}`)
      return {
        present: true,
        version: Number(result.headers.etag?.replaceAll('"', '')),
        content: result.body,
      }
    },
  }
}

describeWithRedis('Lambda killed mid-load, flusher killed mid-run', () => {
  describeWithMysql('over ioredis and mysql2', () => {
    const table = tables.next()
    const env = {
      SYNC_REDIS_URL: redisUrl(),
      SYNC_SQL_URL: mysqlUrl(),
      SYNC_SQL_TABLE: table,
      SYNC_REDIS_PREFIX: prefix,
      SYNC_API_TOKENS: token,
      SYNC_LOG_LEVEL: 'warn',
    }
    const { start } = lambdaProcesses(() => env)

    afterAll(async () => {
      await deleteRedisPrefix(prefix)
      await tables.dropAll()
    })

    it('loses no acknowledged write and brings back no deleted one', async () => {
      let api = start('api.mjs')
      const history = new History()
      const load = startLoad({
        target: lambdaWrites(() => api),
        history,
        writers: 6,
        idsPerWriter: 5,
        readAfterWrite: true,
        idPrefix: 'lk-',
      })
      await load.ackedMore(150, 'writes before the kill')
      const killed = api
      api = start('api.mjs')
      await killed.kill()
      history.mark('API process killed; a new one serves')
      await load.ackedMore(150, 'writes after the kill')
      // A flusher killed while the load goes on: whatever it did, the next runs finish the job. Its
      // invocation has 6 s, so the leases it took expire 6 s after it took them.
      const doomed = start('flusher.mjs')
      const running = doomed.invoke<FlushOutboxReport>({}, 6_000).catch(() => undefined)
      await load.ackedMore(30, 'writes while the first flusher runs')
      await doomed.kill()
      await running
      await load.ackedMore(60, 'writes after the flusher was killed')
      await load.stop()

      // Shards the killed flusher still holds are skipped (busy) until its leases expire; runs go
      // on until one finds none held.
      const flusher = start('flusher.mjs')
      let report = (await flusher.invoke<FlushOutboxReport>({}, 120_000)).result
      for (let runs = 0; report.busy > 0 && runs < 400; runs++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        report = (await flusher.invoke<FlushOutboxReport>({}, 120_000)).result
      }
      expect(report).toMatchObject({ failed: 0, left: 0, busy: 0 })

      const ids = history.writtenIds()
      const l3 = createMysqlStore({ url: mysqlUrl(), table })
      try {
        await l3.init()
        const inL3 = [
          ...checkFinalState(history.ops, await readL3State(l3, ids), { durableAcks: ['logged', 'stored'] }),
          ...checkNoPhantoms(history.ops, await listLiveIds(l3)),
        ]
        const served = checkHistory(
          history.ops,
          await readL3ViaApi(
            ids,
            lambdaWrites(() => api),
          ),
          {
            durableAcks: ['logged', 'stored'],
          },
        )
        console.log(describeRun('lambda kill', history.summary()))
        expect(`SQL: ${describeViolations(inL3, history)}; API: ${describeViolations(served, history)}`).toBe(
          'SQL: no violations; API: no violations',
        )
      } finally {
        await l3.close()
      }
    }, 240_000)
  })
})

async function readL3ViaApi(ids: readonly string[], target: WriteTarget): Promise<Map<string, Observed>> {
  const states = new Map<string, Observed>()
  for (const id of ids) states.set(id, await target.get(id))
  return states
}
