import { redactUrl } from '@sync-engine/core'

/** Keys whose values are secrets wherever they appear in a log object. */
export const SECRET_KEY = /authorization|token|password|passwd|secret|cookie|api[-_]?key|credential/i
export const REDACTED = '[redacted]'
const MAX_DEPTH = 8

/**
 * A copy of a log object with every secret-looking key censored and credentials removed from
 * every URL-looking string (`redis://user:pass@host` → `redis://***@host`). Errors are kept as
 * they are, so that pino's error serializer still sees their message and stack.
 */
export function scrubSecrets<T>(value: T, depth = 0): T {
  // Most log objects (every request line) hold nothing to scrub: return them as they are.
  if (depth === 0 && isClean(value)) return value
  if (typeof value === 'string') return (value.includes('://') ? redactUrl(value) : value) as T
  if (value === null || typeof value !== 'object' || value instanceof Error || depth >= MAX_DEPTH)
    return value
  if (Array.isArray(value)) return value.map((entry) => scrubSecrets(entry, depth + 1)) as T
  const copy: Record<string, unknown> = {}
  for (const [key, entry] of Object.entries(value)) {
    copy[key] = SECRET_KEY.test(key) ? REDACTED : scrubSecrets(entry, depth + 1)
  }
  return copy as T
}

/** A flat object of numbers, booleans and strings without a URL, under keys that are not secret. */
function isClean(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Error)
    return false
  for (const key in value) {
    if (SECRET_KEY.test(key)) return false
    const entry = (value as Record<string, unknown>)[key]
    const type = typeof entry
    if (type === 'string') {
      if ((entry as string).includes('://')) return false
    } else if (type !== 'number' && type !== 'boolean' && entry !== undefined && entry !== null) return false
  }
  return true
}
