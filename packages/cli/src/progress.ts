import { write } from './cli-io.ts'

/**
 * Progress of a long command on stderr (stdout keeps the result alone, for scripts): on a
 * terminal one line redrawn in place, `label ███░░ done/total (n%)`; elsewhere (a pipe, a log)
 * one plain line per step. Written by hand: a bar is twenty lines, not a dependency.
 */
export class Progress {
  readonly #tty: boolean

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly label: string,
    private readonly total: number | undefined,
  ) {
    this.#tty = (stream as { isTTY?: boolean }).isTTY === true
  }

  update(done: number): Promise<void> {
    const of = this.total === undefined ? '' : ` of ${this.total}`
    if (!this.#tty) return write(this.stream, `${this.label} ${done}${of}\n`)
    const width = 24
    const share = this.total ? Math.min(1, done / this.total) : 0
    const filled = Math.round(share * width)
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`
    const percent = this.total ? ` (${Math.floor(share * 100)}%)` : ''
    return write(this.stream, `\r${this.label} ${bar} ${done}${of}${percent}`)
  }

  /** Ends the redrawn line, so what follows starts on its own. */
  done(): Promise<void> {
    return this.#tty ? write(this.stream, '\n') : Promise.resolve()
  }
}
