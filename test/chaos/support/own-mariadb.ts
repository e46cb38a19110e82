import { join } from 'node:path'
import { createConnection } from 'mysql2/promise'
import { freePort } from '../../integration/redis/own-redis-server.ts'
import { makeTempDir } from '../../support/temp-dir.ts'
import { requireBinary } from './binaries.ts'
import { type Exit, OwnedProcess } from './owned-process.ts'
import { waitFor } from './wait.ts'

/**
 * Small InnoDB files and buffers: a fresh data directory is ~25 MB and installs in well under a
 * second, where the defaults write ~115 MB. Durability settings stay at their defaults (a commit is
 * on disk when it returns), since the tests kill this server and rely on what it acknowledged.
 */
const SERVER_OPTIONS = [
  '--innodb-log-file-size=8M',
  '--innodb-buffer-pool-size=32M',
  '--skip-log-bin',
  '--performance-schema=OFF',
]

/**
 * A private `mariadbd` for one test file: its own data directory (installed with
 * `mariadb-install-db`, root@127.0.0.1 without a password), a spare port, a socket in its own
 * directory. Stopped, killed and restarted on the same data directory and port only through the
 * PID we spawned; the shared server on 3306 is never touched.
 */
export class OwnMariaDb {
  #process: OwnedProcess | undefined
  readonly #dir = makeTempDir('chaos-mariadb')

  private constructor(readonly port: number) {}

  get #dataDir() {
    return join(this.#dir.path, 'data')
  }

  /** Installs a data directory, starts the server and creates `database`. */
  static async start(database: string): Promise<OwnMariaDb> {
    const server = new OwnMariaDb(await freePort())
    try {
      await server.#install()
      await server.start()
      const connection = await createConnection({ uri: server.url(''), connectTimeout: 2_000 })
      try {
        await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``)
      } finally {
        await connection.end()
      }
      return server
    } catch (error) {
      await server.dispose()
      throw error
    }
  }

  url(database: string): string {
    return `mysql://root@127.0.0.1:${this.port}/${database}`
  }

  get pid(): number | undefined {
    return this.#process?.pid
  }

  async #install(): Promise<void> {
    const args = [
      '--no-defaults',
      `--datadir=${this.#dataDir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...asRoot(),
      ...SERVER_OPTIONS,
    ]
    const install = OwnedProcess.spawn('mariadb-install-db', requireBinary('mariadb-install-db'), args)
    const exit = await install.exited
    if (exit.code !== 0) {
      throw new Error(`mariadb-install-db failed (${exit.code ?? exit.signal}): ${install.output.text}`)
    }
  }

  /** (Re)starts on the same data directory and port; resolves once root can run a query. */
  async start(): Promise<void> {
    if (this.#process?.running) throw new Error(`mariadbd on ${this.port} is already running`)
    const args = [
      '--no-defaults',
      `--datadir=${this.#dataDir}`,
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      `--socket=${join(this.#dir.path, 'mariadbd.sock')}`,
      `--pid-file=${join(this.#dir.path, 'mariadbd.pid')}`,
      `--tmpdir=${this.#dir.path}`,
      '--skip-name-resolve',
      '--max-allowed-packet=64M',
      ...asRoot(),
      ...SERVER_OPTIONS,
    ]
    const child = OwnedProcess.spawn('mariadbd', requireBinary('mariadbd'), args)
    this.#process = child
    try {
      await waitFor(`mariadbd on port ${this.port} accepting root`, async () => {
        if (!child.running) throw new Error(`mariadbd exited: ${child.output.text}`)
        return this.#answers()
      })
    } catch (error) {
      await child.kill('SIGKILL')
      throw error
    }
  }

  /** Starts it again if a test left it stopped: the next test finds it up. */
  async ensureRunning(): Promise<void> {
    if (!this.#process?.running) await this.start()
  }

  /** A clean shutdown (SIGTERM to our PID); resolves with the exit once it is down. */
  async stop(): Promise<Exit> {
    const exit = await (this.#process?.kill('SIGTERM') ?? Promise.resolve({ code: 0, signal: null }))
    await this.#portClosed()
    return exit
  }

  /** kill -9 by PID: InnoDB recovers from its redo log at the next start. */
  async kill9(): Promise<void> {
    await this.#process?.kill('SIGKILL')
    await this.#portClosed()
  }

  async #answers(): Promise<boolean> {
    try {
      const connection = await createConnection({ uri: this.url(''), connectTimeout: 1_000 })
      try {
        await connection.query('SELECT 1')
        return true
      } finally {
        connection.destroy()
      }
    } catch {
      return false
    }
  }

  async #portClosed(): Promise<void> {
    await waitFor(`port ${this.port} closed after mariadbd stopped`, async () => !(await this.#answers()))
  }

  /** Kills the server (by PID) and removes its data directory. Safe to call twice, and after a failure. */
  async dispose(): Promise<void> {
    try {
      await this.#process?.terminate(10_000)
    } finally {
      this.#dir.remove()
    }
  }
}

/** mariadbd refuses to run as root unless told to; as anyone else the option would only warn. */
function asRoot(): string[] {
  return process.getuid?.() === 0 ? ['--user=root'] : []
}
