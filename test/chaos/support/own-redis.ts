import { Redis } from 'ioredis'
import { freePort } from '../../integration/redis/own-redis-server.ts'
import { redisReachable } from '../../integration/redis/redis-reachable.ts'
import { makeTempDir } from '../../support/temp-dir.ts'
import { requireBinary } from './binaries.ts'
import { OwnedProcess } from './owned-process.ts'
import { waitFor } from './wait.ts'

/**
 * A private `redis-server` for one test file: loopback, a spare port, its own working directory,
 * no persistence (so a kill -9 loses everything, as a crashed cache does). It is started, killed,
 * paused and restarted only through the PID we spawned; the shared server on 6379 is never touched.
 */
export class OwnRedis {
  #process: OwnedProcess | undefined
  readonly #dir = makeTempDir('chaos-redis')

  private constructor(readonly port: number) {}

  /** Starts one on a spare port and waits until it answers PING. */
  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort())
    await redis.start()
    return redis
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get pid(): number | undefined {
    return this.#process?.pid
  }

  /** (Re)starts on the same port; the data is gone (no persistence). */
  async start(): Promise<void> {
    if (this.#process?.running) throw new Error(`redis-server on ${this.port} is already running`)
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
    args.push('--dir', this.#dir.path)
    const child = OwnedProcess.spawn('redis-server', requireBinary('redis-server'), args)
    this.#process = child
    try {
      await waitFor(`redis-server on port ${this.port} answering PING`, async () => {
        if (!child.running) throw new Error(`redis-server exited: ${child.output.text}`)
        return redisReachable(this.url)
      })
    } catch (error) {
      await child.kill('SIGKILL')
      throw error
    }
  }

  /** Resumes a frozen server and starts a dead one: what a test leaves behind, the next one finds up. */
  async ensureRunning(): Promise<void> {
    this.resume()
    if (!this.#process?.running) await this.start()
  }

  /** kill -9 by PID; resolves once it exited and the port no longer answers. */
  async kill9(): Promise<void> {
    const child = this.#process
    if (!child) return
    child.signal('SIGCONT')
    await child.kill('SIGKILL')
    await waitFor(`port ${this.port} closed after kill -9`, async () => !(await redisReachable(this.url)))
  }

  /** SIGSTOP: the server keeps its sockets and data but answers nothing (a hung, not a dead, cache). */
  pause(): void {
    this.#process?.signal('SIGSTOP')
  }

  resume(): void {
    this.#process?.signal('SIGCONT')
  }

  /** Connected clients other than the one asking (CLIENT LIST, normal clients). */
  async clientCount(): Promise<number> {
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
    try {
      await client.connect()
      const list = (await client.call('CLIENT', 'LIST', 'TYPE', 'normal')) as string
      return list.split('\n').filter((line) => line.trim() !== '').length - 1
    } finally {
      client.disconnect()
    }
  }

  /** A raw ioredis client on this server (the caller disconnects it). */
  client(): Redis {
    return new Redis(this.url, { maxRetriesPerRequest: 1 })
  }

  /** Kills the server (by PID) and removes its directory. Safe to call twice, and after a failure. */
  async dispose(): Promise<void> {
    try {
      await this.#process?.terminate(5_000)
    } finally {
      this.#dir.remove()
    }
  }
}
