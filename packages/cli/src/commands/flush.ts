import { writeLine } from '../cli-io.ts'
import { ApiClient } from '../client/api-client.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, resolveTarget } from '../client/api-target.ts'
import { type Command, printHelp } from '../command.ts'
import { expectPositionals, parseCommandLine } from '../parse-command-line.ts'

const HELP = `Usage: sync-engine flush [options]

Asks the server to write everything queued to its tiers now (POST /v1/admin/flush) and prints
"flushed <n> writes, <m> pending" (writes that arrived meanwhile stay pending).

Options:
  -h, --help         show this help

${CLIENT_OPTIONS_HELP}`

export const flushCommand: Command = {
  name: 'flush',
  summary: 'flush the server’s write queue now',
  help: HELP,

  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, CLIENT_OPTIONS)
    if (values.help) return printHelp(io, HELP)
    expectPositionals(positionals, [])
    const client = new ApiClient(resolveTarget(values, io.env), io.fetch)
    const report = (await client.json('POST', '/v1/admin/flush')) as
      | { written?: unknown; pending?: unknown }
      | undefined
    if (typeof report?.written === 'number' && typeof report.pending === 'number') {
      await writeLine(io.stdout, `flushed ${report.written} writes, ${report.pending} pending`)
    } else {
      await writeLine(io.stdout, report === undefined ? 'flushed' : JSON.stringify(report, null, 2))
    }
    return 0
  },
}
