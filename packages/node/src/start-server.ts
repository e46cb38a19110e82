import {
  ConfigError,
  ENV_VARS,
  type Logger,
  parseConfig,
  type SyncConfig,
  type SyncConfigInput,
  type SyncEngine,
} from '@sync-engine/core'
import { createApp } from '@sync-engine/http'
import { createEngineFromConfig } from './create-engine-from-config.ts'
import { createLogger } from './create-logger.ts'
import { GracefulHttpServer } from './graceful-http-server.ts'
import { isLoopbackHost } from './loopback-host.ts'
import { RequestLineBatcher } from './request-line-batcher.ts'
import { exitOnShutdownSignals } from './shutdown-signals.ts'

export interface StartServerOptions {
  /** Parsed (`loadConfig`) or raw config input, validated here. */
  config: SyncConfig | SyncConfigInput
  /** Default: `createLogger(config)`. */
  logger?: Logger
  /** Close and exit on SIGTERM/SIGINT (exit 0, or 1 if the shutdown failed). For the CLI. */
  handleSignals?: boolean
}

export interface RunningServer {
  /** The base URL with the real port (`http://127.0.0.1:41234`). */
  url: string
  port: number
  engine: SyncEngine
  /**
   * Stops accepting connections, lets requests in flight finish, then shuts the engine down
   * (flushing every pending write). Idempotent: later calls return the first call's promise.
   */
  close(): Promise<void>
}

/**
 * Starts the engine on the configured L3 and serves the HTTP API on `config.host:config.port`.
 * Refuses (with a `ConfigError`, before opening anything) to listen beyond loopback without API
 * tokens: that would put every item in reach of anyone on the network.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const config = parseConfig(options.config)
  if (config.apiTokens.length === 0 && !isLoopbackHost(config.host)) {
    throw new ConfigError(
      `host (${ENV_VARS.host}) is ${config.host}, which is reachable beyond this machine, and ` +
        `apiTokens (${ENV_VARS.apiTokens}) is empty: configure at least one API token, or listen on 127.0.0.1`,
      ['host', 'apiTokens'],
    )
  }
  const logger = options.logger ?? createLogger(config)
  const engine = await createEngineFromConfig(config, logger)
  await engine.start()

  const lines = RequestLineBatcher.for(logger)
  const app = createApp({ engine, config, logger, ...(lines && { requestLines: lines.sink }) })
  const server = new GracefulHttpServer(app.fetch)
  let address: Awaited<ReturnType<GracefulHttpServer['listen']>>
  try {
    address = await server.listen(config.port, config.host)
  } catch (error) {
    await engine.shutdown().catch(() => {})
    throw error
  }
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`

  let removeSignalHandlers = () => {}
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      try {
        await server.close()
        lines?.flush()
        await engine.shutdown()
        logger.info({}, 'server closed')
      } finally {
        removeSignalHandlers()
      }
    })()
    return closing
  }
  if (options.handleSignals) removeSignalHandlers = exitOnShutdownSignals(close, logger)
  logger.info({ url, l3: engine.describeTiers() }, 'listening')
  return { url, port: address.port, engine, close }
}
