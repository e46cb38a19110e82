import { readFile } from 'node:fs/promises'
import { ACK_LEVELS } from '@sync-engine/core'
import { CliError, UsageError } from '../cli-error.ts'
import { type CliIo, readAll, writeLine } from '../cli-io.ts'
import { ApiClient } from '../client/api-client.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, resolveTarget } from '../client/api-target.ts'
import { itemPath } from '../client/item-path.ts'
import { type Command, printHelp } from '../command.ts'
import { expectPositionals, parseCommandLine, parseNonNegativeInt } from '../parse-command-line.ts'

const JSON_MIME = 'application/json'
const BINARY_MIME = 'application/octet-stream'
const TIERS = ['redis', 'sql'] as const

const OPTIONS = {
  ...CLIENT_OPTIONS,
  json: { type: 'string' },
  type: { type: 'string' },
  ttl: { type: 'string' },
  tiers: { type: 'string' },
  ack: { type: 'string' },
} as const

const HELP = `Usage: sync-engine put <id> <file|-> [options]
       sync-engine put <id> --json '<text>' [options]

Stores the bytes of <file> (or stdin with -, or the --json text) as item <id> and prints
"<id> version <version>".

Options:
  --json <text>      inline JSON content (instead of a file)
  --type <mime>      Content-Type (default: application/json for --json and *.json files,
                     else application/octet-stream)
  --ttl <ms>         Redis TTL in milliseconds
  --tiers <list>     tiers to write, comma-separated: redis,sql (default: the server's routing)
  --ack <level>      queued | logged | stored: when the server answers
  -h, --help         show this help

${CLIENT_OPTIONS_HELP}`

export const putCommand: Command = {
  name: 'put',
  summary: 'store an item from a file, stdin or inline JSON',
  help: HELP,

  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, OPTIONS)
    if (values.help) return printHelp(io, HELP)
    expectPositionals(positionals, ['id', 'file'], 1)
    const [id, file] = positionals as [string, string | undefined]
    if (file === undefined && values.json === undefined) {
      throw new UsageError('put needs a <file>, - for stdin, or --json')
    }
    if (file !== undefined && values.json !== undefined) {
      throw new UsageError('give either a <file> or --json, not both')
    }
    const query = {
      ttl: values.ttl === undefined ? undefined : String(parseNonNegativeInt('ttl', values.ttl)),
      tiers: values.tiers === undefined ? undefined : parseTiers(values.tiers),
      ack: values.ack === undefined ? undefined : parseAck(values.ack),
    }
    const client = new ApiClient(resolveTarget(values, io.env), io.fetch)
    const body = values.json !== undefined ? checkedJson(values.json) : await readContent(file!, io)
    const contentType =
      values.type ?? (values.json !== undefined || isJsonFile(file) ? JSON_MIME : BINARY_MIME)

    const receipt = await client.json('PUT', itemPath(id), {
      body,
      headers: { 'content-type': contentType },
      query,
    })
    const version = (receipt as { version?: unknown } | undefined)?.version
    await writeLine(io.stdout, `${id} version ${version === undefined ? '?' : String(version)}`)
    return 0
  },
}

function isJsonFile(file: string | undefined): boolean {
  return file?.toLowerCase().endsWith('.json') ?? false
}

function checkedJson(text: string): string {
  try {
    JSON.parse(text)
  } catch (error) {
    throw new UsageError(`--json is not valid JSON: ${(error as Error).message}`)
  }
  return text
}

async function readContent(file: string, io: CliIo): Promise<Uint8Array> {
  if (file === '-') return readAll(io.stdin)
  try {
    return await readFile(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new CliError(`cannot read ${file}${code ? ` (${code})` : ''}`)
  }
}

function parseTiers(raw: string): string {
  const tiers = raw.split(',').map((tier) => tier.trim().toLowerCase())
  for (const tier of tiers) {
    if (!(TIERS as readonly string[]).includes(tier)) {
      throw new UsageError(`--tiers takes ${TIERS.join(', ')} (comma-separated), got '${tier}'`)
    }
  }
  return [...new Set(tiers)].join(',')
}

function parseAck(raw: string): string {
  if (!(ACK_LEVELS as readonly string[]).includes(raw)) {
    throw new UsageError(`--ack must be one of ${ACK_LEVELS.join(', ')}, got '${raw}'`)
  }
  return raw
}
