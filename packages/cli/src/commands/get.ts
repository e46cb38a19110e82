import { writeFile } from 'node:fs/promises'
import { CliError } from '../cli-error.ts'
import { write, writeLine } from '../cli-io.ts'
import { ApiClient } from '../client/api-client.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, resolveTarget } from '../client/api-target.ts'
import { itemPath } from '../client/item-path.ts'
import { type Command, printHelp } from '../command.ts'
import { expectPositionals, parseCommandLine } from '../parse-command-line.ts'

const OPTIONS = {
  ...CLIENT_OPTIONS,
  out: { type: 'string', short: 'o' },
  meta: { type: 'boolean' },
} as const

const HELP = `Usage: sync-engine get <id> [options]

Writes the stored bytes of item <id>, unchanged, to stdout (or to --out).
A missing item is an error (exit 1).

Options:
  -o, --out <file>   write the content to <file> instead of stdout
  --meta             print version, content type and size to stderr
  -h, --help         show this help

${CLIENT_OPTIONS_HELP}`

export const getCommand: Command = {
  name: 'get',
  summary: 'print an item’s bytes (or write them to a file)',
  help: HELP,

  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, OPTIONS)
    if (values.help) return printHelp(io, HELP)
    expectPositionals(positionals, ['id'])
    const id = positionals[0]!
    const client = new ApiClient(resolveTarget(values, io.env), io.fetch)
    const response = await client.request('GET', itemPath(id), { notFound: `not found: ${id}` })
    const content = new Uint8Array(await response.arrayBuffer())

    if (values.out === undefined) await write(io.stdout, content)
    else {
      try {
        await writeFile(values.out, content)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        throw new CliError(`cannot write ${values.out}${code ? ` (${code})` : ''}`)
      }
    }
    if (values.meta) {
      const version = versionFromEtag(response.headers.get('etag'))
      await writeLine(io.stderr, `version: ${version ?? 'unknown'}`)
      await writeLine(io.stderr, `content-type: ${response.headers.get('content-type') ?? 'unknown'}`)
      await writeLine(io.stderr, `size: ${content.byteLength} bytes`)
    }
    return 0
  },
}

/** `"123"` or `W/"123"` → `123`. */
export function versionFromEtag(etag: string | null): string | undefined {
  if (etag === null || etag === '') return undefined
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1')
}
