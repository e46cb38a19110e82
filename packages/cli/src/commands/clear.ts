import { UsageError } from '../cli-error.ts'
import { writeLine } from '../cli-io.ts'
import { ApiClient } from '../client/api-client.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, resolveTarget } from '../client/api-target.ts'
import { type Command, printHelp } from '../command.ts'
import { expectPositionals, parseCommandLine } from '../parse-command-line.ts'
import { Progress } from '../progress.ts'

/** Items deleted per request. */
const STEP = 500

const OPTIONS = {
  ...CLIENT_OPTIONS,
  prefix: { type: 'string' },
  state: { type: 'string' },
  yes: { type: 'boolean' },
} as const

const HELP = `Usage: sync-engine clear --prefix <p> [--state <s>] --yes

Deletes every live item whose id starts with <p> (literally), optionally only those with state
<s> (DELETE /v1/items?prefix=…&confirm=true), through the server's write path: tombstones at
fresh versions, so a write made after the delete began outlives it. Prints "deleted <n>" (the live
items removed), with its progress on stderr. --prefix '' means every item. Without --yes nothing
is deleted; interrupted, it keeps what it deleted (run it again to finish).

Options:
  --prefix <p>   ids starting with this (required)
  --state <s>    only items with this state
  --yes          really delete
  -h, --help     show this help

${CLIENT_OPTIONS_HELP}`

export const clearCommand: Command = {
  name: 'clear',
  summary: 'delete every item under a prefix',
  help: HELP,

  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, OPTIONS)
    if (values.help) return printHelp(io, HELP)
    expectPositionals(positionals, [])
    if (values.prefix === undefined) throw new UsageError("clear needs --prefix (--prefix '' for every item)")
    if (!values.yes) throw new UsageError('clear deletes items: add --yes to go ahead')
    const client = new ApiClient(resolveTarget(values, io.env), io.fetch)
    const filter = { prefix: values.prefix, state: values.state }
    const counted = (await client.json('GET', '/v1/items:count', { query: filter })) as
      | { count?: number }
      | undefined
    // Step by step, each request bounded: progress is shown, and an interruption keeps what was done.
    const progress = new Progress(io.stderr, 'deleting', counted?.count)
    let deleted = 0
    for (;;) {
      const step = (await client.json('DELETE', '/v1/items', {
        query: { ...filter, confirm: 'true', limit: String(STEP) },
      })) as { deleted?: number; more?: boolean } | undefined
      deleted += step?.deleted ?? 0
      if (!step?.more) break
      await progress.update(deleted)
    }
    if (deleted > 0) await progress.done()
    await writeLine(io.stdout, `deleted ${deleted}`)
    return 0
  },
}
