import type { SyncConfig } from '@sync-engine/core'
import { type DestinationStream, type Logger, pino } from 'pino'
import { REDACTED, scrubSecrets } from './log-redaction.ts'

/** Exact paths pino censors itself (fast path); `scrubSecrets` catches the same keys at any depth. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'apiTokens',
  'config.apiTokens',
  'token',
  'password',
]

/** Bytes a standard-stream destination buffers before it writes (one write per ~40 request lines). */
const BUFFER_BYTES = 4096
/** Longest a buffered line waits for its write. */
const FLUSH_EVERY_MS = 250

/**
 * The server's pino logger at `config.logLevel`, JSON lines on stdout (default), stderr, or any
 * `destination`. The Authorization header, API tokens and anything token- or password-like are
 * censored, and URLs lose their credentials.
 *
 * On stdout and stderr, lines are buffered and written asynchronously (sonic-boom): on Linux a
 * write to a pipe is synchronous, and one per request line cost a system call on every request.
 * The buffer is written out every 250 ms and at exit (`flushSync`); only a process killed outright
 * loses its last lines.
 */
export function createLogger(
  config: Pick<SyncConfig, 'logLevel'>,
  destination: DestinationStream | 'stdout' | 'stderr' = 'stdout',
): Logger {
  const options = {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    formatters: { log: (object: Record<string, unknown>) => scrubSecrets(object) },
  }
  const stream =
    typeof destination === 'string' ? bufferedDestination(destination === 'stdout' ? 1 : 2) : destination
  return Object.assign(pino(options, stream), { [DEFAULT_FORMAT]: true })
}

/**
 * Marks a logger made by `createLogger`: pino's default line format (numeric level, epoch `time`,
 * `msg`), which `RequestLineBatcher` writes itself. A logger the host configured otherwise
 * (other formatters, keys or timestamps) keeps `logger.info` for every line.
 */
export const DEFAULT_FORMAT: unique symbol = Symbol('sync-engine.default-log-format')

/**
 * A sonic-boom on `fd` that writes once `BUFFER_BYTES` are buffered — and at least every
 * `FLUSH_EVERY_MS`, so that a quiet server's lines still show up at once, not 4 KiB later — and
 * writes out what is left at exit.
 */
export function bufferedDestination(fd: number): DestinationStream {
  const stream = pino.destination({ dest: fd, sync: false, minLength: BUFFER_BYTES })
  const timer = setInterval(() => {
    try {
      stream.flush()
    } catch {
      // Not open yet, or closed: the next tick or the exit hook writes it out.
    }
  }, FLUSH_EVERY_MS)
  timer.unref()
  process.once('exit', () => {
    clearInterval(timer)
    try {
      stream.flushSync()
    } catch {
      // A write still in flight at exit: nothing more can be done synchronously.
    }
  })
  return stream
}
