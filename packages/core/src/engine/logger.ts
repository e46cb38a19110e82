/** The logger the core writes to: pino's call shape, so a pino instance fits as is. */
export interface Logger {
  debug(fields: object, message?: string): void
  info(fields: object, message?: string): void
  warn(fields: object, message?: string): void
  error(fields: object, message?: string): void
  /** The level, where the logger lets it change (pino: `logger.level = 'debug'`): `reconfigure` sets it. */
  level?: string
}

const ignore = () => {}
export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore }
