import { InvalidArgumentError } from '@sync-engine/core'
import type { z } from 'zod'

/**
 * A zod failure as the core's `InvalidArgumentError` (400 `invalid-argument`), naming each field
 * at fault: `ttl: must be …; tiers: …`. `where` prefixes the path (`ops[3]`).
 */
export function invalidArgument(error: z.ZodError, where?: string): InvalidArgumentError {
  const lines = error.issues.map((issue) => {
    const path = [where, ...issue.path.map(String)].filter(Boolean).join('.')
    return path === '' ? issue.message : `${path}: ${issue.message}`
  })
  return new InvalidArgumentError(lines.join('; '))
}

/** Parses with `schema`, throwing `InvalidArgumentError` on failure. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where?: string): z.output<S> {
  const result = schema.safeParse(value)
  if (!result.success) throw invalidArgument(result.error, where)
  return result.data
}
