import { type ChildProcess, spawn } from 'node:child_process'
import { OutputTail } from './output-tail.ts'

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** Every process this module started and that has not exited yet. */
const live = new Set<OwnedProcess>()

// Last resort if a test run dies without its afterAll: never leave our own servers behind.
// Only PIDs we spawned are signalled; nothing is looked up by name.
process.once('exit', () => {
  for (const owned of live) owned.signal('SIGKILL')
})

/**
 * A child process the chaos tests started themselves, signalled only by the PID `spawn` returned.
 * Spawned directly (no shell, no npx), so that PID is the server itself and a kill -9 reaches it.
 */
export class OwnedProcess {
  readonly output = new OutputTail()
  readonly exited: Promise<Exit>
  readonly #child: ChildProcess
  #exit: Exit | undefined

  private constructor(
    readonly label: string,
    child: ChildProcess,
  ) {
    this.#child = child
    this.output.follow(child.stdout)
    this.output.follow(child.stderr)
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.output.push(`\n[spawn error] ${error.message}\n`)
      })
      child.once('close', (code, signal) => {
        this.#exit = { code, signal }
        live.delete(this)
        resolve(this.#exit)
      })
    })
    live.add(this)
  }

  static spawn(
    label: string,
    command: string,
    args: readonly string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ): OwnedProcess {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    return new OwnedProcess(label, child)
  }

  get pid(): number | undefined {
    return this.#child.pid
  }

  /** How it ended, once it has. */
  get exit(): Exit | undefined {
    return this.#exit
  }

  get running(): boolean {
    return this.#exit === undefined && this.#child.pid !== undefined
  }

  /** The stream of its stdout, for readiness lines. */
  get stdout() {
    return this.#child.stdout
  }

  /** Sends `signal` to our PID if it still runs; does not wait. */
  signal(signal: NodeJS.Signals): void {
    const pid = this.#child.pid
    if (pid === undefined || this.#exit !== undefined) return
    try {
      process.kill(pid, signal)
    } catch (error) {
      // ESRCH: it exited between the check and the kill, which is what we wanted.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
    }
  }

  /** Sends `signal` and waits for the exit; resolves at once if it already exited. */
  async kill(signal: NodeJS.Signals): Promise<Exit> {
    this.signal(signal)
    return this.exited
  }

  /** SIGTERM, then SIGKILL if it is still running after `graceMs` (clean-up, not a measurement). */
  async terminate(graceMs = 15_000): Promise<Exit> {
    if (!this.running) return this.exited
    // A SIGSTOPped process would never handle SIGTERM.
    this.signal('SIGCONT')
    this.signal('SIGTERM')
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }
}
