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

/**
 * The server's pino logger at `config.logLevel`, JSON lines on stdout (or `destination`). The
 * Authorization header, API tokens and anything token- or password-like are censored, and URLs
 * lose their credentials.
 */
export function createLogger(config: Pick<SyncConfig, 'logLevel'>, destination?: DestinationStream): Logger {
  const options = {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    formatters: { log: (object: Record<string, unknown>) => scrubSecrets(object) },
  }
  return destination === undefined ? pino(options) : pino(options, destination)
}
