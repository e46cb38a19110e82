import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createAdaptorServer } from '@hono/node-server'
import { createLogger, type RunningServer, startServer } from '@sync-engine/node'
import type { Hono } from 'hono'
import { pino } from 'pino'
import { makeValues } from './fixtures.ts'
import type { BenchContext } from './report.ts'

/** A compact JSON object of exactly `bytes` bytes (a user profile from the fixtures, padded). */
export function jsonOfBytes(bytes: number): string {
  const value = { ...makeValues(1)[0], pad: '' }
  const short = bytes - JSON.stringify(value).length
  if (short < 0) throw new Error(`jsonOfBytes: ${bytes} is smaller than the profile`)
  value.pad = 'x'.repeat(short)
  const text = JSON.stringify(value)
  if (Buffer.byteLength(text) !== bytes) throw new Error('jsonOfBytes: not ASCII')
  return text
}

/** Bytes the request log's destination buffers before it writes: as `createLogger` on stdout. */
const LOG_BUFFER_BYTES = 4096

/** `startServer` as a deployment runs it, with its log lines going to a file in the run's tmp dir. */
export interface EngineServer {
  readonly server: RunningServer
  readonly url: string
  readonly dataDir: string
  /** Closes the server (flushing the engine), then writes out the log's buffer and closes it. */
  close(): Promise<void>
  /** Request lines (`"msg":"request"`) in the log file: call after `close()`. */
  requestLines(): number
}

/**
 * `startServer({ config: { port: 0, dataDir } })` with every other setting at its default (SQLite
 * L3 in `<dataDir>/sync.db`, the write-ahead log in `<dataDir>/wal.db`, ack 'logged', logLevel
 * 'info': one request line per request). The logger is `createLogger(config, destination)` with a
 * destination like the default stdout one (sonic-boom, asynchronous, 4 KiB buffer) but on a file,
 * so the run can count the request lines afterwards.
 */
export async function startEngineServer(ctx: BenchContext, label: string): Promise<EngineServer> {
  const dataDir = ctx.tmp.dir(label)
  const logPath = join(dataDir, 'server.log')
  const destination = pino.destination({ dest: logPath, sync: false, minLength: LOG_BUFFER_BYTES })
  const config = { port: 0, dataDir }
  const logger = createLogger({ logLevel: 'info' }, destination)
  let server: RunningServer
  try {
    server = await startServer({ config, logger })
  } catch (error) {
    destination.destroy()
    throw error
  }
  let closed = false
  return {
    server,
    url: server.url,
    dataDir,
    async close() {
      if (closed) return
      closed = true
      try {
        await server.close()
      } finally {
        // end() writes out what is buffered, then closes the file.
        await new Promise<void>((resolve) => {
          destination.once('close', () => resolve())
          destination.end()
        })
      }
    },
    requestLines() {
      const text = readFileSync(logPath, 'utf8')
      let lines = 0
      for (let at = text.indexOf('"msg":"request"'); at >= 0; at = text.indexOf('"msg":"request"', at + 1))
        lines++
      return lines
    },
  }
}

/** A bare Hono app served by `@hono/node-server` (`createAdaptorServer` on node:http) on its own port. */
export interface BareServer {
  readonly url: string
  close(): Promise<void>
}

export async function startBareServer(app: Hono): Promise<BareServer> {
  const server = createAdaptorServer({ fetch: app.fetch, createServer }) as Server
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      }),
  }
}
