import { InvalidArgumentError } from '@sync-engine/core'
import type { Context } from 'hono'
import type { z } from 'zod'
import { parseWith } from './invalid-argument.ts'

/**
 * The query parameters of a request, validated by `schema`. A parameter given twice is refused
 * rather than silently taking one of the values.
 */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const all = c.req.queries()
  const single: Record<string, string> = {}
  for (const [name, values] of Object.entries(all)) {
    if (values.length > 1) throw new InvalidArgumentError(`query parameter ${name} is given more than once`)
    single[name] = values[0] ?? ''
  }
  return parseWith(schema, single, 'query')
}
