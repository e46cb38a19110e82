import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { redisReachable } from './redis-reachable.ts'

/** Whether a `redis-server` binary is on the PATH (chaos tests start their own). */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

/** A port nobody listens on right now (the OS picks it; we release it for the server). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * A throwaway `redis-server` on loopback, never the shared one: no persistence, killed only by the
 * PID we spawned (spawned directly, not through a shell, so that PID is the server itself).
 */
export class OwnRedisServer {
  #child: ChildProcess | undefined

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    )
    this.#child = child
    if (!(await until(() => redisReachable(this.url)))) {
      await this.kill()
      throw new Error(`redis-server did not come up on port ${this.port}`)
    }
  }

  /** kill -9 by PID, then wait until the port no longer answers. */
  async kill(): Promise<void> {
    const child = this.#child
    this.#child = undefined
    if (!child || child.exitCode !== null || child.pid === undefined) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    process.kill(child.pid, 'SIGKILL')
    await exited
    if (!(await until(async () => !(await redisReachable(this.url))))) {
      throw new Error(`port ${this.port} still answers after killing redis-server`)
    }
  }
}

/** Polls `check` every 50 ms, at most `attempts` times; whether it became true. */
export async function until(check: () => Promise<boolean> | boolean, attempts = 200): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}
