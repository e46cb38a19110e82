import { UsageError } from '../cli-error.ts'

/** A command-line argument that must be JSON: a usage error (exit 2) naming it otherwise. */
export function jsonArgument(name: string, text: string | undefined): unknown {
  if (text === undefined) throw new UsageError(`missing <${name}>`)
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`<${name}> is not JSON: ${(error as Error).message}`)
  }
}
