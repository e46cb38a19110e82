import { ConfigError, LogTargetMismatchError, loadConfig } from '@sync-engine/core'
import { CliError, UsageError } from '../cli-error.ts'
import { writeLine } from '../cli-io.ts'
import { type Command, printHelp } from '../command.ts'
import { expectPositionals, parseCommandLine, parseNonNegativeInt } from '../parse-command-line.ts'

const OPTIONS = {
  'max-seconds': { type: 'string' },
} as const

const DEFAULT_MAX_SECONDS = 55

const HELP = `Usage: sync-engine flush-outbox [options]

Drains the Redis outbox into SQL once and exits: the writes acknowledged 'logged' by servers,
Lambda functions or Workers running with the outbox (SYNC_LOG=redis on Node). Run it on a
schedule (cron, a systemd timer) as the scheduled flusher does on Lambda. Several at once are
safe: each shard is drained under a lease, and one that finds a shard leased skips it.
Connects to SYNC_REDIS_URL and SYNC_SQL_URL itself (no server needed), with the same
SYNC_REDIS_PREFIX, SYNC_REDIS_SHARDS and SYNC_SQL_TABLE as the writers.
Prints one JSON line: {"drained","stale","failed","rejected","left","busy","stopped"}.

Options:
  --max-seconds <n>  stop taking new pages after about this long (default ${DEFAULT_MAX_SECONDS})
  -h, --help         show this help

Exit codes: 0 drained (or nothing to do), 1 a shard could not be drained (SQL down: its writes
stay in the outbox for the next run) or SQL refused writes for good (logged with their ids),
2 bad usage or configuration.`

export const flushOutboxCommand: Command = {
  name: 'flush-outbox',
  summary: 'drain the Redis outbox into SQL once',
  help: HELP,

  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, OPTIONS)
    if (values.help) return printHelp(io, HELP)
    expectPositionals(positionals, [])
    const seconds =
      values['max-seconds'] === undefined
        ? DEFAULT_MAX_SECONDS
        : parseNonNegativeInt('max-seconds', values['max-seconds'])
    // Less than the time a run keeps back for its last page does nothing at all.
    if (seconds < 1) throw new UsageError('--max-seconds must be at least 1')
    const { createLogger, flushOutboxFromConfig } = await import('@sync-engine/node')
    try {
      const config = loadConfig({ env: io.env })
      const report = await flushOutboxFromConfig(config, {
        maxMs: seconds * 1000,
        logger: createLogger(config, 'stderr'),
      })
      await writeLine(io.stdout, JSON.stringify(report))
      return report.failed > 0 || report.rejected > 0 ? 1 : 0
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(error.message, 2)
      if (error instanceof LogTargetMismatchError) throw new CliError(error.message, 1)
      throw error instanceof Error ? new CliError(error.message, 1) : error
    }
  },
}
