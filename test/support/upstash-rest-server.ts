import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { text } from 'node:stream/consumers'
import { Command, Redis } from 'ioredis'

/**
 * A loopback server speaking the Upstash Redis REST protocol (as `@upstash/redis` 1.39 uses it) over
 * a real Redis, so the real HTTP client can be tested without the cloud service.
 *
 * - `POST /` one command as a JSON array → `{result}`, or `{error}` with status 400.
 * - `POST /pipeline` an array of commands → an array of `{result}|{error}`, run in order.
 * - `POST /multi-exec` the same, inside MULTI/EXEC on a connection of its own (atomic).
 * - `Upstash-Encoding: base64` → every string in a result (nested too) is base64 of its raw bytes,
 *   except the status `OK`; without it strings are UTF-8.
 * - A missing or wrong `Authorization: Bearer <token>` → 401.
 */

export interface UpstashRestServer {
  readonly url: string
  readonly token: string
  close(): Promise<void>
}

export interface UpstashRestServerOptions {
  readonly redisUrl: string
  readonly token: string
}

type Json = string | number | null | Json[]
type Entry = { result: Json } | { error: string }

/** A request the protocol rejects as a whole (bad JSON, bad shape): answered with status 400. */
class RequestError extends Error {}

/**
 * Commands that would change the shared connection's state (database, transaction, subscriber or
 * monitor mode) and so leak into every later request. Upstash refuses most of these too.
 */
const CONNECTION_STATE = new Set([
  'select',
  'multi',
  'exec',
  'discard',
  'watch',
  'unwatch',
  'subscribe',
  'psubscribe',
  'ssubscribe',
  'monitor',
  'quit',
  'reset',
  'hello',
  'auth',
  'client',
])

export async function startUpstashRestServer(options: UpstashRestServerOptions): Promise<UpstashRestServer> {
  // One shared connection: ioredis keeps its replies in command order, which is all `/` and
  // `/pipeline` need. No offline queue, so a dead Redis fails a request instead of hanging it.
  const shared = new Redis(options.redisUrl, { enableOfflineQueue: false, lazyConnect: true })
  await shared.connect()
  const expected = Buffer.from(`Bearer ${options.token}`)

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, 500, { error: `ERR upstash-rest-server: ${String(error)}` }, req)
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const auth = Buffer.from(req.headers.authorization ?? '')
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      return send(res, 401, { error: 'Unauthorized' }, req)
    }
    if (req.method !== 'POST') return send(res, 405, { error: 'ERR only POST is supported' }, req)
    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64'
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '')
    try {
      const body = JSON.parse(await text(req)) as unknown
      if (path === '') {
        const entry = await runOne(shared, toCommand(body), base64)
        return send(res, 'error' in entry ? 400 : 200, entry, req)
      }
      if (path === '/pipeline' || path === '/multi-exec') {
        if (!Array.isArray(body) || body.length === 0)
          throw new RequestError('ERR expected an array of commands')
        const commands = body.map(toCommand)
        const entries =
          path === '/pipeline'
            ? await Promise.all(commands.map((command) => runOne(shared, command, base64)))
            : await runTransaction(options.redisUrl, commands, base64)
        return send(res, 200, entries, req)
      }
      return send(res, 404, { error: `ERR unknown endpoint ${path}` }, req)
    } catch (error) {
      if (error instanceof RequestError || error instanceof SyntaxError) {
        return send(res, 400, { error: error.message }, req)
      }
      throw error
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    token: options.token,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await shared.quit()
    },
  }
}

/** A validated command: lowercase name plus its arguments as bytes. */
interface RedisCommand {
  readonly name: string
  readonly args: Buffer[]
}

function toCommand(raw: unknown): RedisCommand {
  if (!Array.isArray(raw) || raw.length === 0 || typeof raw[0] !== 'string') {
    throw new RequestError('ERR a command is a non-empty array starting with its name')
  }
  const name = raw[0].toLowerCase()
  if (CONNECTION_STATE.has(name)) throw new RequestError(`ERR command ${name} is not supported over REST`)
  const args = raw.slice(1).map((arg: unknown) => {
    // The client sends numbers as JSON numbers and values as strings (already JSON-stringified if
    // they were objects); Redis wants bytes, and JS strings travel as UTF-8.
    if (typeof arg === 'string') return Buffer.from(arg, 'utf8')
    if (typeof arg === 'number' || typeof arg === 'boolean') return Buffer.from(String(arg))
    throw new RequestError(`ERR unsupported argument type ${arg === null ? 'null' : typeof arg}`)
  })
  return { name, args }
}

/**
 * Build the ioredis command. The name goes out upper-case on purpose: ioredis looks its reply and
 * argument transformers up by the exact lower-case name (hgetall → object, hset/mset object args),
 * and the protocol needs the raw RESP2 reply, so this keeps them out. `replyEncoding: null` keeps
 * every bulk string a Buffer, so binary values survive to the base64 step.
 */
function ioCommand(command: RedisCommand): Command {
  return new Command(command.name.toUpperCase(), command.args, { replyEncoding: null })
}

/** `sendCommand` is typed `unknown`; the command's own promise carries the reply. */
function call(redis: Redis, command: Command): Promise<unknown> {
  redis.sendCommand(command)
  return command.promise
}

async function runOne(redis: Redis, command: RedisCommand, base64: boolean): Promise<Entry> {
  try {
    return { result: toJson(await call(redis, ioCommand(command)), base64) }
  } catch (error) {
    return { error: errorText(error) }
  }
}

/**
 * MULTI, the commands, EXEC on a connection of its own: nothing else can interleave, and a command
 * rejected while queueing aborts the whole transaction exactly as Redis decides (EXECABORT).
 */
async function runTransaction(redisUrl: string, commands: RedisCommand[], base64: boolean): Promise<Entry[]> {
  const redis = new Redis(redisUrl, { enableOfflineQueue: false, lazyConnect: true })
  try {
    await redis.connect()
    // Sent back to back without awaiting, so nothing can come between them; every promise gets its
    // handler now, so a failure in one cannot surface as an unhandled rejection of another.
    const multi = call(redis, new Command('MULTI', [])).then(() => undefined, errorText)
    const queued = commands.map((command) => call(redis, ioCommand(command)).then(() => undefined, errorText))
    const exec = call(redis, new Command('EXEC', [], { replyEncoding: null })).then(
      (replies: unknown) => ({ replies }),
      (error: unknown) => ({ error: errorText(error) }),
    )
    const failures = [await multi, ...(await Promise.all(queued))]
    const outcome = await exec
    if ('error' in outcome) {
      const cause = failures.find((text) => text !== undefined)
      throw new RequestError(cause === undefined ? outcome.error : `${outcome.error} (${cause})`)
    }
    const { replies } = outcome
    if (!Array.isArray(replies)) throw new RequestError('ERR transaction aborted')
    // EXEC's reply holds per-command errors as Error objects in place of their results.
    return replies.map((reply: unknown) =>
      reply instanceof Error ? { error: errorText(reply) } : { result: toJson(reply, base64) },
    )
  } finally {
    redis.disconnect()
  }
}

/** RESP2 → JSON: integers as numbers, nil as null, arrays nested, bulk and status strings as text. */
function toJson(reply: unknown, base64: boolean): Json {
  if (reply === null || reply === undefined) return null
  if (typeof reply === 'number') return reply
  if (Buffer.isBuffer(reply)) {
    // ioredis hands status and bulk replies over alike; the client passes a literal "OK" through
    // without decoding, so sending it plain is right for both.
    if (base64 && !reply.equals(OK)) return reply.toString('base64')
    return reply.toString('utf8')
  }
  if (typeof reply === 'string')
    return base64 && reply !== 'OK' ? Buffer.from(reply).toString('base64') : reply
  if (Array.isArray(reply)) return reply.map((item: unknown) => toJson(item, base64))
  throw new Error(`unexpected reply type ${typeof reply}`)
}

const OK = Buffer.from('OK')

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function send(res: ServerResponse, status: number, body: Entry | Entry[], req: IncomingMessage): void {
  if (res.headersSent) return
  // The client stores whatever sync token comes back and sends it on its next call; echoing the
  // one it sent keeps read-your-writes a no-op, which is right for a single Redis.
  const syncToken = req.headers['upstash-sync-token']
  res.writeHead(status, {
    'content-type': 'application/json',
    'upstash-sync-token': typeof syncToken === 'string' ? syncToken : '',
  })
  res.end(JSON.stringify(body))
}
