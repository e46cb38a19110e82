import { UsageError } from '../cli-error.ts'
import { writeLine } from '../cli-io.ts'
import { ApiClient } from '../client/api-client.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, resolveTarget } from '../client/api-target.ts'
import { type Command, printHelp } from '../command.ts'
import { expectPositionals, parseCommandLine } from '../parse-command-line.ts'

const HELP = `Usage: sync-engine partition add <prefix>
       sync-engine partition list

Partitions by id prefix (POST/GET /v1/partitions): ids under a registered prefix live in an SQL
table of their own (the longest registered prefix wins); reads, listings, search and deletes span
every table. Register a partition before the first write under its prefix: once ids under it are
stored (deleted ones included) it is refused (exit 1, 409 conflict).
add prints "added <prefix> → <table>" (or "unchanged <prefix>"); list prints the partitions as JSON.

Options:
  -h, --help         show this help

${CLIENT_OPTIONS_HELP}`

export const partitionCommand: Command = {
  name: 'partition',
  summary: 'add or list partitions by id prefix',
  help: HELP,

  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, CLIENT_OPTIONS)
    if (values.help) return printHelp(io, HELP)
    const [action, ...rest] = positionals
    const client = new ApiClient(resolveTarget(values, io.env), io.fetch)
    if (action === 'list') {
      expectPositionals(rest, [])
      const answer = (await client.json('GET', '/v1/partitions')) as { partitions?: unknown } | undefined
      await writeLine(io.stdout, JSON.stringify(answer?.partitions ?? [], null, 2))
      return 0
    }
    if (action === 'add') {
      expectPositionals(rest, ['prefix'])
      const prefix = rest[0]!
      const response = await client.request('POST', '/v1/partitions', {
        body: JSON.stringify({ prefix }),
        headers: { 'content-type': 'application/json' },
      })
      const partition = (await response.json()) as { table?: string }
      await writeLine(
        io.stdout,
        response.status === 201 ? `added ${prefix} → ${partition.table}` : `unchanged ${prefix}`,
      )
      return 0
    }
    throw new UsageError(
      action === undefined ? 'missing <add|list>' : `unknown action '${action}' (add or list)`,
    )
  },
}
