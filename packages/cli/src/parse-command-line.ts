import { type ParseArgsConfig, parseArgs } from 'node:util'
import { UsageError } from './cli-error.ts'

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>

const HELP = { help: { type: 'boolean', short: 'h' } } as const

/**
 * `parseArgs` in strict mode with positionals and `--help`/`-h` added; its errors become one-line
 * `UsageError`s.
 */
export function parseCommandLine<const O extends OptionSpecs>(
  args: readonly string[],
  options: O,
): ReturnType<typeof parseArgs<{ options: O & typeof HELP; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({
      args: [...args],
      options: { ...options, ...HELP },
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    throw new UsageError(describeParseError(error))
  }
}

function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown } | null)?.code
  const unknown = /^Unknown option '([^']+)'/.exec(message)
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) return `unknown option '${unknown[1]}'`
  const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(message)
  if (ambiguous) {
    return `option '${ambiguous[1]}' needs a value (write ${ambiguous[1]}=<value> for one that starts with -)`
  }
  const first = (message.split('\n')[0] ?? message).replace(/\.$/, '')
  return first.charAt(0).toLowerCase() + first.slice(1)
}

/** Checks the number of positionals and names the missing or extra ones. */
export function expectPositionals(
  positionals: readonly string[],
  names: readonly string[],
  optional = 0,
): void {
  const required = names.length - optional
  if (positionals.length < required) throw new UsageError(`missing <${names[positionals.length]}>`)
  if (positionals.length > names.length) {
    throw new UsageError(`unexpected argument '${positionals[names.length]}'`)
  }
}

/** A flag value that must be a non-negative integer (ports, milliseconds). */
export function parseNonNegativeInt(flag: string, raw: string): number {
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`--${flag} must be a non-negative integer, got '${raw}'`)
  }
  return Number(raw)
}
