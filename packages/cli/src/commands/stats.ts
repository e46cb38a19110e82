import { writeLine } from '../cli-io.ts'
import { ApiClient } from '../client/api-client.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, resolveTarget } from '../client/api-target.ts'
import { type Command, printHelp } from '../command.ts'
import { expectPositionals, parseCommandLine } from '../parse-command-line.ts'

const HELP = `Usage: sync-engine stats [options]

Prints the server's statistics (GET /v1/stats) as pretty-printed JSON on stdout, ready for jq.
Needs a token when the server has tokens configured.

Options:
  -h, --help         show this help

${CLIENT_OPTIONS_HELP}`

export const statsCommand: Command = {
  name: 'stats',
  summary: 'print server statistics as JSON',
  help: HELP,

  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, CLIENT_OPTIONS)
    if (values.help) return printHelp(io, HELP)
    expectPositionals(positionals, [])
    const client = new ApiClient(resolveTarget(values, io.env), io.fetch)
    const stats = await client.json('GET', '/v1/stats')
    await writeLine(io.stdout, JSON.stringify(stats ?? {}, null, 2))
    return 0
  },
}
