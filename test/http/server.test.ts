import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, silentLogger } from '@sync-engine/core'
import { type RunningServer, startServer } from '@sync-engine/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir, removeDir } from './support/http-test-engine.ts'
import { rawRequest } from './support/raw-http.ts'

let dir: string
const running: RunningServer[] = []

beforeAll(async () => {
  dir = await makeTempDir()
})
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})
afterAll(async () => {
  await removeDir(dir)
})

async function start(overrides: Record<string, unknown> = {}, dataDir = dir): Promise<RunningServer> {
  const server = await startServer({ config: { dataDir, port: 0, ...overrides }, logger: silentLogger })
  running.push(server)
  return server
}

const BINARY = new Uint8Array([0x00, 0xff, 0x89, 0x50, 0x4e, 0x47, 0x00, 0xc3, 0x28, 0xff])

describe('a real server', () => {
  it('reports the real port of port 0 in its url', async () => {
    const server = await start()
    expect(server.port).toBeGreaterThan(0)
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
  })

  it('keeps JSON and binary items byte-identical, with Content-Type and version, across a restart', async () => {
    const dataDir = join(dir, 'restart')
    const first = await start({}, dataDir)
    const json = await fetch(`${first.url}/v1/items/doc`, {
      method: 'PUT',
      body: '{ "a": [1, 2.5, "x"], "big": 12345678901234567890 }',
      headers: { 'content-type': 'application/json' },
    })
    expect(json.status).toBe(200)
    const bin = await fetch(`${first.url}/v1/items/${encodeURIComponent('img/logo.png')}`, {
      method: 'PUT',
      body: BINARY,
      headers: { 'content-type': 'image/png' },
    })
    expect(bin.status).toBe(200)
    const jsonEtag = json.headers.get('etag')
    const binEtag = bin.headers.get('etag')
    await first.close()
    expect(first.engine.state).toBe('stopped')

    const second = await start({}, dataDir)
    const jsonBack = await fetch(`${second.url}/v1/items/doc`)
    expect(jsonBack.status).toBe(200)
    expect(jsonBack.headers.get('content-type')).toBe('application/json')
    expect(jsonBack.headers.get('etag')).toBe(jsonEtag)
    expect(await jsonBack.text()).toBe('{"a":[1,2.5,"x"],"big":12345678901234567890}')

    const binBack = await fetch(`${second.url}/v1/items/${encodeURIComponent('img/logo.png')}`)
    expect(binBack.status).toBe(200)
    expect(binBack.headers.get('content-type')).toBe('image/png')
    expect(binBack.headers.get('etag')).toBe(binEtag)
    expect(new Uint8Array(await binBack.arrayBuffer())).toEqual(BINARY)
  })

  it('answers 413 to a Content-Length past the limit without waiting for the body', async () => {
    const server = await start({ maxPayloadBytes: 1024 })
    // Headers only: the body is never sent, so only a decision taken on the header can answer.
    const res = await rawRequest(
      `${server.url}/v1/items/too-big`,
      { method: 'PUT', headers: { 'content-length': '1025', 'content-type': 'text/plain' } },
      () => {},
    )
    expect(res.status).toBe(413)
    expect(JSON.parse(res.body)).toMatchObject({ type: 'https://sync-engine.dev/problems/payload-too-large' })
    expect(await server.engine.get('too-big')).toBeUndefined()
  })

  it('answers 413 to a chunked body once it passes the limit, without reading it all', async () => {
    const server = await start({ maxPayloadBytes: 1024 })
    let written = 0
    // The body would be endless: the answer can only come from the server stopping at the limit.
    const res = await rawRequest(
      `${server.url}/v1/items/endless`,
      { method: 'PUT', headers: { 'transfer-encoding': 'chunked', 'content-type': 'text/plain' } },
      (write) => {
        const pump = () => {
          if (written > 64 * 1024 * 1024) return
          written += 256
          if (write(new Uint8Array(256).fill(0x61))) setImmediate(pump)
          else setTimeout(pump, 1)
        }
        pump()
      },
    )
    expect(res.status).toBe(413)
    expect(JSON.parse(res.body)).toMatchObject({ type: 'https://sync-engine.dev/problems/payload-too-large' })
    expect(await server.engine.get('endless')).toBeUndefined()
  })

  it('close() lets a request in flight finish, flushes it, then stops; it is idempotent', async () => {
    const dataDir = join(dir, 'in-flight')
    const server = await start({ batchFlushMs: 60_000 }, dataDir)
    let closed: Promise<void> | undefined
    const response = rawRequest(
      `${server.url}/v1/items/in-flight?ack=queued`,
      {
        method: 'PUT',
        headers: { 'content-type': 'text/plain', 'content-length': '5', expect: '100-continue' },
      },
      (write, end, events) => {
        // 100 Continue proves the server has the request; close while its body is still unsent.
        events.onContinue(() => {
          closed = server.close()
          setImmediate(() => {
            write(new TextEncoder().encode('hello'))
            end()
          })
        })
      },
    )
    // Cutting the connection at close would fail this request instead of answering it.
    const res = await response
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toMatchObject({ id: 'in-flight', ack: 'queued' })
    await closed
    expect(server.engine.state).toBe('stopped')
    await expect(server.close()).resolves.toBeUndefined()
    await expect(fetch(`${server.url}/health`)).rejects.toThrow()

    // The queued write was flushed by the shutdown.
    const again = await start({}, dataDir)
    expect(await (await fetch(`${again.url}/v1/items/in-flight`)).text()).toBe('hello')
  })
})

describe('configuration', () => {
  it.each(['0.0.0.0', '::', '192.168.1.10'])('refuses to listen on %s without API tokens', async (host) => {
    const error = await startServer({ config: { dataDir: dir, port: 0, host }, logger: silentLogger }).catch(
      (e) => e,
    )
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).fields).toEqual(['host', 'apiTokens'])
    expect((error as Error).message).toContain('apiTokens')
  })

  it('listens beyond loopback once a token is configured, and the token is required there', async () => {
    const token = 'a-long-enough-test-token'
    const server = await start({ host: '0.0.0.0', apiTokens: [token] })
    const url = `http://127.0.0.1:${server.port}`
    expect((await fetch(`${url}/v1/stats`)).status).toBe(401)
    expect((await fetch(`${url}/v1/stats`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    )
  })

  it('listens on localhost without tokens', async () => {
    const local = await start({ host: 'localhost' })
    expect((await fetch(`http://localhost:${local.port}/health`)).status).toBe(200)
  })

  it('uses the SQLite file a sqlite: URL names', async () => {
    const file = join(dir, 'custom', 'l3.db')
    const server = await start({ sqlUrl: `sqlite:${file}` })
    expect((await fetch(`${server.url}/v1/items/x`, { method: 'PUT', body: 'x' })).status).toBe(200)
    expect(existsSync(file)).toBe(true)
  })

  it('refuses an unsupported sqlUrl scheme with a ConfigError naming sqlUrl, without quoting its credentials', async () => {
    const error = await startServer({
      config: {
        dataDir: dir,
        port: 0,
        sqlUrl: 'postgres://admin:hunter2@db.internal:5432/app?password=topsecret',
      },
      logger: silentLogger,
    }).catch((e) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).fields).toEqual(['sqlUrl'])
    expect((error as Error).message).toMatch(/postgres: is not a supported scheme/)
    for (const secret of ['hunter2', 'topsecret', 'admin'])
      expect((error as Error).message).not.toContain(secret)
  })
})
