import { writeLine } from '../cli-io.ts'
import { ApiClient } from '../client/api-client.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, resolveTarget } from '../client/api-target.ts'
import { itemPath } from '../client/item-path.ts'
import { type Command, printHelp } from '../command.ts'
import { expectPositionals, parseCommandLine } from '../parse-command-line.ts'

const HELP = `Usage: sync-engine delete <id> [options]

Deletes item <id> (the server keeps a versioned tombstone) and prints "deleted <id>".

Options:
  -h, --help         show this help

${CLIENT_OPTIONS_HELP}`

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'delete an item',
  help: HELP,

  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, CLIENT_OPTIONS)
    if (values.help) return printHelp(io, HELP)
    expectPositionals(positionals, ['id'])
    const id = positionals[0]!
    const client = new ApiClient(resolveTarget(values, io.env), io.fetch)
    const response = await client.request('DELETE', itemPath(id), { notFound: `not found: ${id}` })
    await response.body?.cancel()
    await writeLine(io.stdout, `deleted ${id}`)
    return 0
  },
}
