import { InvalidArgumentError } from '@sync-engine/core'
import type { Context } from 'hono'
import type { z } from 'zod'
import { parseWith } from './invalid-argument.ts'

/** What each schema makes of no query at all: the common case, parsed once per schema. */
const noQuery = new WeakMap<z.ZodType, unknown>()

/**
 * The query parameters of a request, validated by `schema`. A parameter given twice is refused
 * rather than silently taking one of the values. A request without a query string costs no
 * parsing (its result is shared and frozen: treat it as read-only).
 */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  if (!c.req.url.includes('?')) {
    if (!noQuery.has(schema)) noQuery.set(schema, Object.freeze(parseWith(schema, {}, 'query')))
    return noQuery.get(schema) as z.output<S>
  }
  const all = c.req.queries()
  const single: Record<string, string> = {}
  for (const [name, values] of Object.entries(all)) {
    if (values.length > 1) throw new InvalidArgumentError(`query parameter ${name} is given more than once`)
    single[name] = values[0] ?? ''
  }
  return parseWith(schema, single, 'query')
}
