import { z } from 'zod'
import { InvalidArgumentError } from '../errors.ts'
import type { FieldType, IndexDefinition } from './index-definition.ts'
import { textWords } from './search-text.ts'
import { describeIssues } from './zod-issues.ts'

/** The one query model every backend answers (the in-memory evaluator is its reference semantics). */
export type SearchQuery =
  | { readonly eq: { readonly field: string; readonly value: string | number } }
  | { readonly tags: { readonly field: string; readonly any: readonly string[] } }
  | {
      readonly range: {
        readonly field: string
        readonly gte?: number
        readonly gt?: number
        readonly lte?: number
        readonly lt?: number
      }
    }
  | { readonly text: { readonly field?: string; readonly terms: string } }
  | { readonly prefix: { readonly field: string; readonly value: string } }
  | { readonly and: readonly SearchQuery[] }
  | { readonly or: readonly SearchQuery[] }
  | { readonly not: SearchQuery }

export interface SearchSort {
  readonly field: string
  readonly order: 'asc' | 'desc'
}

export interface SearchRequest {
  readonly index: string
  readonly query: SearchQuery
  readonly sort?: SearchSort
  readonly limit: number
  readonly cursor?: string
  /** Return each item's JSON value too. */
  readonly values: boolean
}

export const DEFAULT_SEARCH_LIMIT = 100
export const MAX_SEARCH_LIMIT = 1000
/** Nodes a query may have: a query is planned and translated whole, so its size is bounded. */
export const MAX_QUERY_NODES = 64
const MAX_VALUES = 100
const MAX_TEXT = 1_000

const field = z.string().min(1).max(64)
const finite = z.number().finite()
const OPERATORS = ['eq', 'tags', 'range', 'text', 'prefix', 'and', 'or', 'not'] as const

/**
 * A query node: an object with exactly one operator. Not a `z.union` of one object per operator:
 * a union that matches none reports only "Invalid input", and a caller could not tell a misspelt
 * operator from a bad operand. One strict object of optional operators names the member at fault
 * (`query.and.0.text.terms: …`, an unrecognized key), and a refinement asks for exactly one.
 */
const node: z.ZodType<SearchQuery> = z.lazy(() =>
  z
    .object({
      eq: z
        .object({ field, value: z.union([z.string().max(MAX_TEXT), finite]) })
        .strict()
        .optional(),
      tags: z
        .object({ field, any: z.array(z.string().max(MAX_TEXT)).min(1).max(MAX_VALUES) })
        .strict()
        .optional(),
      range: z
        .object({
          field,
          gte: finite.optional(),
          gt: finite.optional(),
          lte: finite.optional(),
          lt: finite.optional(),
        })
        .strict()
        .refine(
          (r) => [r.gte, r.gt, r.lte, r.lt].some((bound) => bound !== undefined),
          'a range needs a bound',
        )
        .refine((r) => r.gte === undefined || r.gt === undefined, 'give gte or gt, not both')
        .refine((r) => r.lte === undefined || r.lt === undefined, 'give lte or lt, not both')
        .optional(),
      text: z
        .object({ field: field.optional(), terms: z.string().max(MAX_TEXT) })
        .strict()
        .optional(),
      prefix: z
        .object({ field, value: z.string().min(1).max(MAX_TEXT) })
        .strict()
        .optional(),
      and: z.array(node).min(1).max(MAX_QUERY_NODES).optional(),
      or: z.array(node).min(1).max(MAX_QUERY_NODES).optional(),
      not: node.optional(),
    })
    .strict()
    .refine(
      (q) => OPERATORS.filter((operator) => q[operator] !== undefined).length === 1,
      `a query node has exactly one operator: ${OPERATORS.join(', ')}`,
    )
    // An operator given as undefined (a library caller's object) is not kept: `'eq' in q` decides.
    .transform((q) => {
      const operator = OPERATORS.find((name) => q[name] !== undefined)!
      return { [operator]: q[operator] }
    }),
) as unknown as z.ZodType<SearchQuery>

const requestSchema = z
  .object({
    index: z.string().min(1).max(64),
    query: node,
    sort: z
      .object({ field, order: z.enum(['asc', 'desc']).default('asc') })
      .strict()
      .optional(),
    limit: z.number().int().min(1).max(MAX_SEARCH_LIMIT).default(DEFAULT_SEARCH_LIMIT),
    cursor: z.string().min(1).max(4096).optional(),
    values: z.boolean().default(false),
  })
  .strict()

/** Validates the shape of a search request (not yet against an index: see `checkQuery`). */
export function parseSearchRequest(input: unknown): SearchRequest {
  const parsed = requestSchema.safeParse(input)
  if (!parsed.success) throw new InvalidArgumentError(`invalid search: ${describeIssues(parsed.error)}`)
  const { sort, cursor, ...rest } = parsed.data
  return { ...rest, ...(sort && { sort }), ...(cursor !== undefined && { cursor }) }
}

/** Which field types each operator applies to. */
const OPERAND_TYPES: Record<'eq' | 'tags' | 'range' | 'text' | 'prefix', readonly FieldType[]> = {
  eq: ['tag', 'numeric'],
  tags: ['tag'],
  range: ['numeric'],
  text: ['text'],
  prefix: ['tag'],
}

/**
 * Checks a query and its sort against the index: every field exists and has a type its operator
 * takes (`eq` a tag or numeric field, and a value of that type), `text` has words, the sort field
 * is sortable, the query has at most `MAX_QUERY_NODES` nodes. The error names the member.
 */
export function checkQuery(definition: IndexDefinition, query: SearchQuery, sort?: SearchSort): void {
  let nodes = 0
  const visit = (q: SearchQuery, at: string): void => {
    if (++nodes > MAX_QUERY_NODES) throw new InvalidArgumentError(`query: more than ${MAX_QUERY_NODES} nodes`)
    if ('and' in q || 'or' in q) {
      const [operator, inners] = 'and' in q ? ['and', q.and] : ['or', q.or]
      inners.forEach((inner, i) => {
        visit(inner, `${at}.${operator}.${i}`)
      })
      return
    }
    if ('not' in q) {
      visit(q.not, `${at}.not`)
      return
    }
    const [operator, operand] = Object.entries(q)[0] as [keyof typeof OPERAND_TYPES, { field?: string }]
    const where = `${at}.${operator}`
    if (operator === 'text') {
      if (textWords((operand as { terms: string }).terms).length === 0) {
        throw new InvalidArgumentError(`${where}.terms: has no words (letters or digits)`)
      }
      if (operand.field === undefined) return
    }
    const name = operand.field!
    const declared = definition.fields[name]
    if (declared === undefined) {
      throw new InvalidArgumentError(
        `${where}.field: index ${definition.name} has no field ${JSON.stringify(name)}`,
      )
    }
    if (!OPERAND_TYPES[operator].includes(declared.type)) {
      throw new InvalidArgumentError(
        `${where}.field: ${operator} does not apply to ${declared.type} field ${JSON.stringify(name)}`,
      )
    }
    if (operator === 'eq') {
      const value = (operand as { value: unknown }).value
      const wanted = declared.type === 'numeric' ? 'number' : 'string'
      if (typeof value !== wanted) {
        throw new InvalidArgumentError(
          `${where}.value: ${declared.type} field ${JSON.stringify(name)} takes a ${wanted}`,
        )
      }
    }
  }
  visit(query, 'query')
  if (sort === undefined) return
  const declared = definition.fields[sort.field]
  if (declared === undefined) {
    throw new InvalidArgumentError(
      `sort.field: index ${definition.name} has no field ${JSON.stringify(sort.field)}`,
    )
  }
  if (!declared.sortable)
    throw new InvalidArgumentError(`sort.field: ${JSON.stringify(sort.field)} is not sortable`)
}
