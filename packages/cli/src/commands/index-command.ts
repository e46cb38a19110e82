import { UsageError } from '../cli-error.ts'
import { writeLine } from '../cli-io.ts'
import { ApiClient } from '../client/api-client.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, resolveTarget } from '../client/api-target.ts'
import { type Command, printHelp } from '../command.ts'
import { expectPositionals, parseCommandLine } from '../parse-command-line.ts'
import { Progress } from '../progress.ts'
import { jsonArgument } from './json-argument.ts'

/** How often a long backfill's progress is asked for. */
const POLL_MS = 500

const delay = (ms: number) => new Promise<false>((resolve) => setTimeout(() => resolve(false), ms))

const HELP = `Usage: sync-engine index create <name> '<definition json>'
       sync-engine index list
       sync-engine index drop <name>

Manages search indexes (PUT/GET/DELETE /v1/indexes). A definition names the id prefix it covers
and its fields, each a text, tag or numeric value at a JSON path; see docs/search.md:
  sync-engine index create users '{"prefix":"user:","fields":{"plan":{"type":"tag","path":"$.plan"},
    "age":{"type":"numeric","path":"$.age","sortable":true}}}'
create answers once the index covers every existing item under its prefix (its progress on stderr
meanwhile) and prints
"created <name>" (or "unchanged <name>" for the same definition again); list prints the
definitions as JSON; drop prints "dropped <name>" (exit 1 for an unknown index).

Options:
  -h, --help         show this help

${CLIENT_OPTIONS_HELP}`

export const indexCommand: Command = {
  name: 'index',
  summary: 'create, list or drop search indexes',
  help: HELP,

  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, CLIENT_OPTIONS)
    if (values.help) return printHelp(io, HELP)
    const [action, ...rest] = positionals
    const client = new ApiClient(resolveTarget(values, io.env), io.fetch)
    if (action === 'list') {
      expectPositionals(rest, [])
      const answer = (await client.json('GET', '/v1/indexes')) as { indexes?: unknown } | undefined
      await writeLine(io.stdout, JSON.stringify(answer?.indexes ?? [], null, 2))
      return 0
    }
    if (action === 'create') {
      expectPositionals(rest, ['name', 'definition json'])
      const [name, text] = rest as [string, string]
      const definition = jsonArgument('definition json', text)
      const path = `/v1/indexes/${encodeURIComponent(name)}`
      const prefix = (definition as { prefix?: unknown } | null)?.prefix
      const counted =
        typeof prefix === 'string'
          ? ((await client.json('GET', '/v1/items:count', { query: { prefix } })) as
              | { count?: number }
              | undefined)
          : undefined
      const creating = client.request('PUT', path, {
        body: JSON.stringify(definition),
        headers: { 'content-type': 'application/json' },
      })
      // The PUT answers once the backfill is done; meanwhile the server says how far it got.
      const progress = new Progress(io.stderr, 'indexing', counted?.count)
      let shown = false
      const watching = (async () => {
        for (;;) {
          const settled = await Promise.race([
            creating.then(
              () => true,
              () => true,
            ),
            delay(POLL_MS),
          ])
          if (settled) return
          const status = (await client.json('GET', path).catch(() => undefined)) as
            | { covered?: number }
            | undefined
          if (status?.covered !== undefined) {
            shown = true
            await progress.update(status.covered)
          }
        }
      })()
      const response = await creating.finally(() => watching)
      await watching
      if (shown) await progress.done()
      await response.body?.cancel()
      await writeLine(io.stdout, `${response.status === 201 ? 'created' : 'unchanged'} ${name}`)
      return 0
    }
    if (action === 'drop') {
      expectPositionals(rest, ['name'])
      const name = rest[0]!
      await client.request('DELETE', `/v1/indexes/${encodeURIComponent(name)}`, {
        notFound: `no index named ${name}`,
      })
      await writeLine(io.stdout, `dropped ${name}`)
      return 0
    }
    throw new UsageError(
      action === undefined
        ? 'missing <create|list|drop>'
        : `unknown action '${action}' (create, list or drop)`,
    )
  },
}
