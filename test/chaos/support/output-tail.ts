import type { Readable } from 'node:stream'

const DEFAULT_LIMIT = 8 * 1024

/**
 * The last few KiB a child process printed, so a server that failed to start or died can say why
 * in the test failure, without buffering everything a long load made it print.
 */
export class OutputTail {
  #text = ''

  constructor(readonly limit = DEFAULT_LIMIT) {}

  follow(stream: Readable | null): void {
    stream?.on('data', (chunk: Buffer) => this.push(chunk.toString('utf8')))
  }

  push(text: string): void {
    this.#text += text
    if (this.#text.length > this.limit) this.#text = this.#text.slice(-this.limit)
  }

  get text(): string {
    return this.#text
  }
}
