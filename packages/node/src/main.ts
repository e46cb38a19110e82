/**
 * Runnable entry: `node packages/node/dist/main.js` (built), or `node --conditions=source --import tsx packages/node/src/main.ts`. Configuration comes from the
 * SYNC_* environment variables only; the `sync-engine serve` command adds command-line flags.
 */
import { ConfigError, loadConfig } from '@sync-engine/core'
import { createLogger } from './create-logger.ts'
import { startServer } from './start-server.ts'

try {
  const config = loadConfig({ env: process.env })
  const server = await startServer({ config, logger: createLogger(config), handleSignals: true })
  process.stdout.write(`sync-engine listening on ${server.url}\n`)
} catch (error) {
  process.stderr.write(`sync-engine: ${error instanceof Error ? error.message : String(error)}\n`)
  // 2 for configuration problems, as the CLI does.
  process.exit(error instanceof ConfigError ? 2 : 1)
}
