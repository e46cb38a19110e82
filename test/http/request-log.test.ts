import { Writable } from 'node:stream'
import type { Logger, SyncEngine } from '@sync-engine/core'
import { createApp } from '@sync-engine/http'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { capturingLogger } from './support/capturing-logger.ts'
import { openSqliteApp, tempDir } from './support/sqlite-app.ts'

let dir: Awaited<ReturnType<typeof tempDir>>
let engine: SyncEngine
/** An engine that was shut down: every item request answers 503 engine-state. */
let stopped: SyncEngine

beforeAll(async () => {
  dir = await tempDir()
  ;({ engine } = await openSqliteApp(`${dir.path}/live`))
  ;({ engine: stopped } = await openSqliteApp(`${dir.path}/stopped`))
  await stopped.shutdown()
})
afterAll(async () => {
  await engine.shutdown()
  await dir.remove()
})

/** A real pino logger writing JSON lines into `lines`. */
function pinoInto(lines: Record<string, unknown>[], level: string) {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line))
      done()
    },
  })
  return pino({ level }, stream)
}

const appOn = (on: SyncEngine, logger: Logger) => createApp({ engine: on, config: { apiTokens: [] }, logger })

describe('the request log', () => {
  it('logs method, path (no query), status and duration at info', async () => {
    const logger = capturingLogger()
    const app = appOn(engine, logger)
    await app.request('/v1/items/logged?ack=queued&ttl=60000', { method: 'PUT', body: 'x' })
    expect(logger.entries).toEqual([
      {
        level: 'info',
        fields: { method: 'PUT', path: '/v1/items/logged', status: 200, durationMs: expect.any(Number) },
        message: 'request',
      },
    ])
  })

  it('does not even call info while pino is above info, and starts again when the level is lowered live', async () => {
    const lines: Record<string, unknown>[] = []
    const logger = pinoInto(lines, 'warn')
    const info = vi.spyOn(logger, 'info')
    const app = appOn(engine, logger as unknown as Logger)
    expect((await app.request('/health')).status).toBe(200)
    expect(info).not.toHaveBeenCalled()
    expect(lines).toEqual([])

    // pino swaps its level methods when the level changes: what is written tells.
    logger.level = 'info'
    await app.request('/health')
    expect(lines).toMatchObject([{ level: 30, method: 'GET', path: '/health', status: 200, msg: 'request' }])
  })

  it('reads a bare `level` where the logger has no isLevelEnabled', async () => {
    const logger = { ...capturingLogger(), level: 'error' }
    const app = appOn(engine, logger)
    await app.request('/health')
    expect(logger.entries).toEqual([])
    logger.level = 'debug'
    await app.request('/health')
    expect(logger.entries.map((entry) => entry.level)).toEqual(['info'])
  })

  it('keeps the error line of a 5xx whatever the level', async () => {
    const lines: Record<string, unknown>[] = []
    const logger = pinoInto(lines, 'error')
    const app = appOn(stopped, logger as unknown as Logger)
    expect((await app.request('/v1/items/any')).status).toBe(503)
    const line = lines.find((entry) => entry.msg === 'request failed')
    expect(line).toMatchObject({ level: 50, method: 'GET', path: '/v1/items/any', status: 503 })
    expect(typeof line?.durationMs).toBe('number')
    // Nothing of the request beyond the four fields: no headers, no query.
    expect(Object.keys(line ?? {}).sort()).toEqual(
      ['durationMs', 'hostname', 'level', 'method', 'msg', 'path', 'pid', 'status', 'time'].sort(),
    )
  })
})
