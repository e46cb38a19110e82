import { z } from 'zod'
import { InvalidArgumentError } from '../errors.ts'
import { describeIssues } from './zod-issues.ts'

export const FIELD_TYPES = ['text', 'tag', 'numeric'] as const
export type FieldType = (typeof FIELD_TYPES)[number]

/** `$` then dotted property names: `$.plan`, `$.address.city`. */
const PATH = /^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$/
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/
export const MAX_INDEX_FIELDS = 32

const fieldSchema = z
  .object({
    type: z.enum(FIELD_TYPES),
    path: z.string().regex(PATH, 'must be $ followed by dotted property names, e.g. $.address.city'),
    sortable: z.boolean().optional(),
  })
  .strict()
  .refine((field) => !(field.sortable && field.type === 'text'), {
    message: 'text fields cannot be sortable (sort on a tag or numeric field)',
    path: ['sortable'],
  })

const definitionSchema = z
  .object({
    name: z.string().regex(NAME, 'must start with a letter: letters, digits, _ and -, at most 64'),
    prefix: z.string().max(256),
    fields: z
      .record(z.string().regex(FIELD_NAME, 'field names: a letter, then letters, digits and _'), fieldSchema)
      .refine((fields) => Object.keys(fields).length > 0, 'an index needs at least one field')
      .refine(
        (fields) => Object.keys(fields).length <= MAX_INDEX_FIELDS,
        `at most ${MAX_INDEX_FIELDS} fields`,
      ),
  })
  .strict()

export interface FieldDefinition {
  readonly type: FieldType
  /** The property path in the item's JSON value, as dotted names: `$.address.city` is ['address', 'city']. */
  readonly path: string
  readonly sortable: boolean
}

/** A named index over the JSON items whose ids start with `prefix` (taken literally). */
export interface IndexDefinition {
  readonly name: string
  readonly prefix: string
  readonly fields: Readonly<Record<string, FieldDefinition>>
}

/** Validates an index definition; an `InvalidArgumentError` names the first bad member. */
export function parseIndexDefinition(input: unknown): IndexDefinition {
  const parsed = definitionSchema.safeParse(input)
  if (!parsed.success)
    throw new InvalidArgumentError(`invalid index definition: ${describeIssues(parsed.error)}`)
  const fields: Record<string, FieldDefinition> = {}
  for (const [name, field] of Object.entries(parsed.data.fields)) {
    fields[name] = { type: field.type, path: field.path, sortable: field.sortable ?? false }
  }
  return { name: parsed.data.name, prefix: parsed.data.prefix, fields }
}

/** The property names of a path: `$.address.city` → ['address', 'city']. */
export function pathSegments(path: string): string[] {
  return path.slice(2).split('.')
}
