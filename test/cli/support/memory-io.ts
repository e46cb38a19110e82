import { PassThrough, Readable } from 'node:stream'
import type { CliIo } from '../../../packages/cli/src/cli-io.ts'

export interface MemoryIo extends CliIo {
  stdoutBytes(): Buffer
  stdoutText(): string
  stderrText(): string
}

/** A CliIo over in-memory streams, for running commands in-process. */
export function memoryIo(options: { env?: Record<string, string>; stdin?: Uint8Array } = {}): MemoryIo {
  const out = capture()
  const err = capture()
  return {
    env: options.env ?? {},
    stdin: Readable.from(options.stdin ? [Buffer.from(options.stdin)] : []),
    stdout: out.stream,
    stderr: err.stream,
    fetch: globalThis.fetch,
    stdoutBytes: () => Buffer.concat(out.chunks),
    stdoutText: () => Buffer.concat(out.chunks).toString('utf8'),
    stderrText: () => Buffer.concat(err.chunks).toString('utf8'),
  }
}

function capture(): { stream: PassThrough; chunks: Buffer[] } {
  const chunks: Buffer[] = []
  const stream = new PassThrough()
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  return { stream, chunks }
}
