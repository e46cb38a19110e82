import { writeLine } from '../cli-io.ts'
import { ApiClient } from '../client/api-client.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, resolveTarget } from '../client/api-target.ts'
import { type Command, printHelp } from '../command.ts'
import { expectPositionals, parseCommandLine } from '../parse-command-line.ts'

const OPTIONS = {
  ...CLIENT_OPTIONS,
  prefix: { type: 'string' },
  state: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
} as const

const HELP = `Usage: sync-engine ls [--prefix <p>] [--state <s>] [--limit <n>] [--cursor <c>]

Lists live items (GET /v1/items) in id order, one JSON line each ({"id","version","state"}); the
prefix is literal (% _ * are ordinary characters). When there are more, prints
"next: --cursor <cursor>" on stderr.

Options:
  --prefix <p>   ids starting with this (default: every item)
  --state <s>    only items with this state
  --limit <n>    items per page, 1–1000 (default 100)
  --cursor <c>   the next page, as the previous run printed it
  -h, --help     show this help

${CLIENT_OPTIONS_HELP}`

export const lsCommand: Command = {
  name: 'ls',
  summary: 'list items by prefix and state',
  help: HELP,

  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, OPTIONS)
    if (values.help) return printHelp(io, HELP)
    expectPositionals(positionals, [])
    const client = new ApiClient(resolveTarget(values, io.env), io.fetch)
    const answer = (await client.json('GET', '/v1/items', {
      query: { prefix: values.prefix, state: values.state, limit: values.limit, cursor: values.cursor },
    })) as { items?: unknown[]; cursor?: string | null } | undefined
    for (const item of answer?.items ?? []) await writeLine(io.stdout, JSON.stringify(item))
    if (typeof answer?.cursor === 'string') await writeLine(io.stderr, `next: --cursor ${answer.cursor}`)
    return 0
  },
}
