import type { Logger } from '@sync-engine/core'

const LEVELS = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
}

/**
 * JSON lines on the console, pino's shape (`level`, `time`, `msg`): Lambda sends console output to
 * CloudWatch and Workers to their log tail, and neither needs pino's Node streams (nor should the
 * Worker bundle carry them). Fields are written as given: the engine never puts credentials in them.
 */
export function jsonLogger(level: string): Logger {
  let threshold = LEVELS[level as keyof typeof LEVELS] ?? LEVELS.info
  const write = (severity: number) => (fields: object, msg?: string) => {
    if (severity < threshold) return
    console.log(
      JSON.stringify({ level: severity, time: Date.now(), ...fields, ...(msg !== undefined && { msg }) }),
    )
  }
  return {
    debug: write(LEVELS.debug),
    info: write(LEVELS.info),
    warn: write(LEVELS.warn),
    error: write(LEVELS.error),
    get level() {
      return level
    },
    set level(next: string) {
      level = next
      threshold = LEVELS[next as keyof typeof LEVELS] ?? LEVELS.info
    },
  }
}
