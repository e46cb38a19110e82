import type { Logger } from '@sync-engine/core'

const SIGNALS = ['SIGTERM', 'SIGINT'] as const

/**
 * On SIGTERM or SIGINT: `close()`, then exit 0 (1 if the close failed, e.g. writes could not be
 * flushed). A second signal while closing exits 1 at once, for an operator who will not wait.
 * Returns the function that removes the handlers.
 */
export function exitOnShutdownSignals(close: () => Promise<void>, logger: Logger): () => void {
  let closing = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, 'second signal while shutting down: exiting without waiting')
      process.exit(1)
    }
    closing = true
    logger.info({ signal }, 'shutting down: no new requests, flushing pending writes')
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  for (const signal of SIGNALS) process.on(signal, onSignal)
  return () => {
    for (const signal of SIGNALS) process.off(signal, onSignal)
  }
}
