import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { type Exit, OwnedProcess } from './owned-process.ts'
import { waitFor } from './wait.ts'

/** The real `sync-engine` executable: tsx registers in that very process, so its PID is the server's. */
const BIN = fileURLToPath(new URL('../../../packages/cli/bin/sync-engine.js', import.meta.url))
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const LISTENING = /^sync-engine listening on (\S+)/m

export interface EngineProcessOptions {
  /** The data directory (SQLite L3 and, once it exists, the write-ahead log). */
  readonly dataDir: string
  /** A fixed port, so a restarted server answers at the same URL. */
  readonly port: number
  /** SYNC_* settings; every SYNC_* variable of this process is dropped first. */
  readonly env?: Readonly<Record<string, string>>
}

/**
 * `sync-engine serve` as a child process, started with `node <bin>` directly (no npx, no shell),
 * so `kill9()` reaches the server itself. It can be killed and started again on the same data
 * directory and port any number of times.
 */
export class EngineProcess {
  #process: OwnedProcess | undefined
  /** Output of every run so far, for failure messages. */
  readonly #log: string[] = []

  constructor(readonly options: EngineProcessOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`
  }

  get pid(): number | undefined {
    return this.#process?.pid
  }

  /** What the runs printed (the last few KiB of each). */
  get output(): string {
    return [...this.#log, this.#process?.output.text ?? ''].join('\n--- restart ---\n')
  }

  /** Starts the server and resolves once it printed its URL and `/ready` answers 200. */
  async start(): Promise<void> {
    if (this.#process?.running) throw new Error('the engine process is already running')
    if (this.#process) this.#log.push(this.#process.output.text)
    const env: NodeJS.ProcessEnv = {}
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('SYNC_')) env[key] = value
    Object.assign(env, { SYNC_LOG_LEVEL: 'warn', ...this.options.env })
    const args = [BIN, 'serve', '--port', String(this.options.port), '--data', this.options.dataDir]
    const child = OwnedProcess.spawn('sync-engine', process.execPath, args, { cwd: REPO_ROOT, env })
    this.#process = child
    let stdout = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
    })
    try {
      await waitFor('sync-engine printing its URL and /ready answering 200', async () => {
        if (!child.running) throw new Error(`sync-engine exited (${describeExit(child.exit)})`)
        if (!LISTENING.test(stdout)) return false
        const response = await fetch(`${this.url}/ready`)
        await response.body?.cancel()
        return response.status === 200
      })
    } catch (error) {
      await child.kill('SIGKILL')
      throw new Error(`${(error as Error).message}\n${child.output.text}`)
    }
  }

  /** kill -9 by PID; resolves once it exited and its port refuses connections. */
  async kill9(): Promise<Exit> {
    const exit = await (this.#process?.kill('SIGKILL') ?? Promise.reject(new Error('not started')))
    await waitFor(
      `port ${this.options.port} closed after kill -9`,
      async () => !(await accepts(this.options.port)),
    )
    return exit
  }

  /** SIGTERM (graceful: stop accepting, flush, close) and the exit it ended with. */
  async stop(): Promise<Exit> {
    const child = this.#process
    if (!child) throw new Error('not started')
    return child.terminate(30_000)
  }

  /** Clean-up: SIGTERM, then SIGKILL; safe after a failure or a kill. */
  async dispose(): Promise<void> {
    await this.#process?.terminate(10_000)
  }
}

function describeExit(exit: Exit | undefined): string {
  return exit === undefined ? 'still running' : `code ${exit.code}, signal ${exit.signal}`
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    const done = (open: boolean) => {
      socket.destroy()
      resolve(open)
    }
    socket.setTimeout(1_000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}
