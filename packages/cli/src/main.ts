import { realpathSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { CliError, UsageError } from './cli-error.ts'
import { type CliIo, processIo, writeLine } from './cli-io.ts'
import type { Command } from './command.ts'
import { clearCommand } from './commands/clear.ts'
import { deleteCommand } from './commands/delete.ts'
import { flushCommand } from './commands/flush.ts'
import { flushOutboxCommand } from './commands/flush-outbox.ts'
import { getCommand } from './commands/get.ts'
import { indexCommand } from './commands/index-command.ts'
import { lsCommand } from './commands/ls.ts'
import { partitionCommand } from './commands/partition.ts'
import { putCommand } from './commands/put.ts'
import { searchCommand } from './commands/search.ts'
import { serveCommand } from './commands/serve.ts'
import { statsCommand } from './commands/stats.ts'

export const COMMANDS: readonly Command[] = [
  serveCommand,
  putCommand,
  getCommand,
  deleteCommand,
  statsCommand,
  flushCommand,
  flushOutboxCommand,
  indexCommand,
  searchCommand,
  lsCommand,
  clearCommand,
  partitionCommand,
]

export const USAGE = `sync-engine: a tiered sync engine (L1 memory, L2 Redis, L3 SQL) and its HTTP API.

Usage:
  sync-engine serve [--host 127.0.0.1] [--port 8787] [--data ./data]
  sync-engine put <id> <file|-> [--type <mime>] [--ttl <ms>] [--tiers redis,sql] [--ack <level>]
  sync-engine put <id> --json '<text>' [...]
  sync-engine get <id> [--out <file>] [--meta]
  sync-engine delete <id>
  sync-engine stats
  sync-engine flush
  sync-engine flush-outbox [--max-seconds 55]
  sync-engine index create <name> '<definition json>' | list | drop <name>
  sync-engine search <index> '<query json>' [--sort f[:desc]] [--limit n] [--cursor c] [--values]
  sync-engine ls [--prefix p] [--state s] [--limit n] [--cursor c]
  sync-engine clear --prefix p [--state s] --yes
  sync-engine partition add <prefix> | list
  sync-engine <command> --help

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(12)} ${command.summary}`).join('\n')}

Client commands (put, get, delete, stats, flush, index, search, ls, clear, partition) talk to a running server:
  --url <url>      server base URL (env SYNC_URL, default http://127.0.0.1:8787)
  --token <token>  bearer token (env SYNC_API_TOKEN; prefer the env var: flags are visible in ps)

The server takes its settings from SYNC_* env vars (SYNC_SQL_URL, SYNC_REDIS_URL,
SYNC_API_TOKENS, …); flags of serve override them.

Examples:
  sync-engine serve --data ./data
  sync-engine put user:1 --json '{"name":"Ada"}'
  sync-engine put avatar:1 ./avatar.png --type image/png
  sync-engine get avatar:1 --out avatar.png --meta
  SYNC_API_TOKEN=… sync-engine stats --url http://10.0.0.5:8787

Exit codes: 0 success, 1 failure (server error, unreachable server, not found),
2 bad usage or invalid configuration.`

/** Runs one command line and resolves to the exit code; never throws. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv
  const command = COMMANDS.find((candidate) => candidate.name === name)
  try {
    if (command) return await command.run(rest, io)
    if (name === undefined) throw new UsageError('missing command')
    if (name === '--help' || name === '-h') return await print(io.stdout, USAGE, 0)
    if (name === 'help') return await helpFor(rest[0], io)
    if (name === '--version' || name === '-v') return await print(io.stdout, await version(), 0)
    throw new UsageError(name.startsWith('-') ? `unknown option '${name}'` : `unknown command '${name}'`)
  } catch (error) {
    return report(error, command, io)
  }
}

async function helpFor(name: string | undefined, io: CliIo): Promise<number> {
  if (name === undefined) return print(io.stdout, USAGE, 0)
  const command = COMMANDS.find((candidate) => candidate.name === name)
  if (!command) throw new UsageError(`unknown command '${name}'`)
  return print(io.stdout, command.help, 0)
}

async function report(error: unknown, command: Command | undefined, io: CliIo): Promise<number> {
  if (error instanceof UsageError) {
    await writeLine(io.stderr, `error: ${error.message}`)
    await writeLine(io.stderr, '')
    return print(io.stderr, command?.help ?? USAGE, error.exitCode)
  }
  if (error instanceof CliError) return print(io.stderr, `error: ${error.message}`, error.exitCode)
  const message = error instanceof Error ? error.message : String(error)
  return print(io.stderr, `error: ${message}`, 1)
}

async function print(stream: NodeJS.WritableStream, text: string, code: number): Promise<number> {
  await writeLine(stream, text)
  return code
}

async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: string
  }
  return `sync-engine ${pkg.version ?? 'unknown'}`
}

/**
 * The process entry: runs the command and sets the exit code. A failed command exits at once, so
 * that nothing a half-started server left open keeps the process alive; a successful `serve`
 * keeps running until its signal handlers stop it.
 */
export async function runCli(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const code = await main(argv, processIo())
  if (code !== 0) process.exit(code)
}

function isEntryPoint(): boolean {
  const entry = process.argv[1]
  if (entry === undefined) return false
  try {
    return pathToFileURL(realpathSync(entry)).href === import.meta.url
  } catch {
    return false
  }
}

// `node --import tsx packages/cli/src/main.ts …` (the root `npm run serve`) runs this file directly.
if (isEntryPoint()) await runCli()
