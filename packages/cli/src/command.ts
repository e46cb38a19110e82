import { type CliIo, writeLine } from './cli-io.ts'

/** One subcommand: its help text and what it does. `run` resolves to the exit code. */
export interface Command {
  readonly name: string
  /** One line for the overview. */
  readonly summary: string
  /** The full `--help` text. */
  readonly help: string
  run(args: readonly string[], io: CliIo): Promise<number>
}

/** Prints a command's help on stdout; exit code 0. */
export async function printHelp(io: CliIo, help: string): Promise<number> {
  await writeLine(io.stdout, help)
  return 0
}
