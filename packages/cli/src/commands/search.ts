import { UsageError } from '../cli-error.ts'
import { writeLine } from '../cli-io.ts'
import { ApiClient } from '../client/api-client.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, resolveTarget } from '../client/api-target.ts'
import { type Command, printHelp } from '../command.ts'
import { expectPositionals, parseCommandLine, parseNonNegativeInt } from '../parse-command-line.ts'
import { jsonArgument } from './json-argument.ts'

const OPTIONS = {
  ...CLIENT_OPTIONS,
  sort: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  values: { type: 'boolean' },
} as const

const HELP = `Usage: sync-engine search <index> '<query json>' [options]

Searches an index (POST /v1/search) and prints one JSON line per item ({"id","version"}, and
"value" with --values), then, when there are more, "next: --cursor <cursor>" on stderr. The query
model is in docs/search.md, e.g.
  sync-engine search users '{"and":[{"eq":{"field":"plan","value":"pro"}},{"range":{"field":"age","gte":30}}]}'

Options:
  --sort <field>[:asc|:desc]  order by a sortable field (default: id order)
  --limit <n>                 items per page, 1–1000 (default 100)
  --cursor <cursor>           the next page, as the previous run printed it
  --values                    print each item's JSON value too
  -h, --help                  show this help

${CLIENT_OPTIONS_HELP}`

export const searchCommand: Command = {
  name: 'search',
  summary: 'search an index',
  help: HELP,

  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, OPTIONS)
    if (values.help) return printHelp(io, HELP)
    expectPositionals(positionals, ['index', 'query json'])
    const [index, text] = positionals as [string, string]
    const request: Record<string, unknown> = { index, query: jsonArgument('query json', text) }
    if (values.sort !== undefined) {
      const [field, order = 'asc'] = values.sort.split(':')
      if (!field || (order !== 'asc' && order !== 'desc')) {
        throw new UsageError(`--sort takes <field>[:asc|:desc], got '${values.sort}'`)
      }
      request.sort = { field, order }
    }
    if (values.limit !== undefined) request.limit = parseNonNegativeInt('limit', values.limit)
    if (values.cursor !== undefined) request.cursor = values.cursor
    if (values.values) request.values = true
    const client = new ApiClient(resolveTarget(values, io.env), io.fetch)
    const answer = (await client.json('POST', '/v1/search', {
      body: JSON.stringify(request),
      headers: { 'content-type': 'application/json' },
    })) as { items?: unknown[]; cursor?: string | null } | undefined
    for (const item of answer?.items ?? []) await writeLine(io.stdout, JSON.stringify(item))
    if (typeof answer?.cursor === 'string') await writeLine(io.stderr, `next: --cursor ${answer.cursor}`)
    return 0
  },
}
