import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The real `sync-engine` executable, run with `node` directly so a child's PID is the CLI's. */
export const BIN = fileURLToPath(new URL('../../../packages/cli/bin/sync-engine.js', import.meta.url))
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: Buffer
  readonly stderr: string
}

/** The environment for a child: this one without any SYNC_* variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('SYNC_')) env[key] = value
  return { ...env, ...extra }
}

/** Runs the CLI to completion. */
export function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: Uint8Array } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: options.env ?? cleanEnv() })
  child.stdin.end(options.input ?? undefined)
  return collect(child)
}

export function collect(child: ChildProcess): Promise<CliResult> {
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk))
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
    )
  })
}

export interface RunningServer {
  readonly child: ChildProcess
  readonly url: string
  /** The `listening on` line. */
  readonly line: string
  /** Everything the process printed, and how it ended, once it has exited. */
  readonly exited: Promise<CliResult>
}

const LISTENING = /^sync-engine listening on (\S+) \(L3: (.*)\)$/m

/** Starts `sync-engine serve` and resolves once it prints its `listening on <url>` line. */
export function startServe(args: readonly string[], env: NodeJS.ProcessEnv): Promise<RunningServer> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: REPO_ROOT, env })
  const exited = collect(child)
  let stdout = ''
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
      const match = LISTENING.exec(stdout)
      if (match) resolve({ child, url: match[1]!, line: match[0], exited })
    })
    exited.then(
      (result) =>
        reject(
          new Error(`serve exited (${result.code ?? result.signal}) before listening: ${result.stderr}`),
        ),
      reject,
    )
  })
}

/** Stops a child that is still running (test clean-up), SIGKILL if SIGTERM is not enough. */
export async function stop(server: RunningServer | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return
  server.child.kill('SIGTERM')
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000)
  await server.exited.finally(() => clearTimeout(timer))
}
