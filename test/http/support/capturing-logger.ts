import type { Logger } from '@sync-engine/core'

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error'
  fields: Record<string, unknown>
  message: string | undefined
}

/** A logger that keeps what it is given, to assert what is (and is not) logged. */
export function capturingLogger(): Logger & { entries: LogEntry[]; text(): string } {
  const entries: LogEntry[] = []
  const record = (level: LogEntry['level']) => (fields: object, message?: string) => {
    entries.push({ level, fields: fields as Record<string, unknown>, message })
  }
  return {
    entries,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    text: () => JSON.stringify(entries),
  }
}
