import { ConfigError, loadConfig, type SyncConfig, type SyncConfigInput } from '@sync-engine/core'
import { CliError } from '../cli-error.ts'
import { type CliIo, writeLine } from '../cli-io.ts'
import { type Command, printHelp } from '../command.ts'
import { expectPositionals, parseCommandLine, parseNonNegativeInt } from '../parse-command-line.ts'

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  data: { type: 'string' },
} as const

const HELP = `Usage: sync-engine serve [options]

Runs the HTTP API on a long-running engine until SIGTERM or SIGINT (then it stops accepting
requests, flushes everything pending and exits 0). With nothing configured it runs on the embedded
default: L1 memory + a SQLite file under the data directory, no Redis.
Prints "sync-engine listening on <url> (L3: <tier>)" on stdout once it accepts requests; logs
(JSON lines, secrets redacted) go to stderr.

Options (each overrides its env var):
  --host <host>      interface to listen on (SYNC_HOST, default 127.0.0.1); anything beyond
                     loopback needs API tokens (SYNC_API_TOKENS)
  --port <port>      port, 0 for any free one (SYNC_PORT, default 8787)
  --data <dir>       data directory for SQLite and the log (SYNC_DATA_DIR, default ./data)
  -h, --help         show this help

Other settings come from the environment: SYNC_SQL_URL, SYNC_REDIS_URL, SYNC_API_TOKENS
(comma-separated), SYNC_LOG_LEVEL, … (one SYNC_* variable per config field).`

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the HTTP server',
  help: HELP,

  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, OPTIONS)
    if (values.help) return printHelp(io, HELP)
    expectPositionals(positionals, [])
    const overrides: SyncConfigInput = {}
    if (values.host !== undefined) overrides.host = values.host
    if (values.port !== undefined) overrides.port = parseNonNegativeInt('port', values.port)
    if (values.data !== undefined) overrides.dataDir = values.data
    const config = asCliErrors(() => loadConfig({ env: io.env, overrides }))
    return serve(config, io)
  },
}

async function serve(config: SyncConfig, io: CliIo): Promise<number> {
  // Loaded here, not at the top: client commands then start without the server's dependencies.
  const { createLogger, startServer } = await import('@sync-engine/node')
  let server: Awaited<ReturnType<typeof startServer>>
  try {
    // Logs go to stderr: stdout carries only the listening line, for scripts to read.
    const logger = createLogger(config, 'stderr')
    server = await startServer({ config, logger, handleSignals: true })
  } catch (error) {
    throw toCliError(error)
  }
  await writeLine(io.stdout, `sync-engine listening on ${server.url} (L3: ${server.engine.describeTiers()})`)
  return 0
}

function asCliErrors<T>(fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    throw toCliError(error)
  }
}

/** A configuration problem exits 2, anything else that stops the server from starting exits 1. */
function toCliError(error: unknown): unknown {
  if (error instanceof ConfigError) return new CliError(error.message, 2)
  if (error instanceof Error) return new CliError(error.message, 1)
  return error
}
