import type { SearchQuery, SearchSort } from '@sync-engine/core/internal'
import fc from 'fast-check'

/**
 * Queries built from a backend's leaves (each differential test picks the leaves its backend must
 * get right): a leaf, its `not`, an `or` of leaves, an `and` of leaves and negated leaves.
 */
export function queriesOf(leaf: fc.Arbitrary<SearchQuery>): fc.Arbitrary<SearchQuery> {
  const term = fc.oneof(
    leaf,
    leaf.map((q) => ({ not: q })),
  )
  return fc.oneof(
    leaf,
    leaf.map((q) => ({ not: q })),
    fc.array(leaf, { minLength: 1, maxLength: 3 }).map((qs) => ({ or: qs })),
    fc.array(term, { minLength: 1, maxLength: 3 }).map((qs) => ({ and: qs })),
  )
}

/** No sort, or one by the test index's sortable tag `kind` or numeric `n`, either way. */
export const searchSort: fc.Arbitrary<SearchSort | undefined> = fc.option(
  fc.record({ field: fc.constantFrom('kind', 'n'), order: fc.constantFrom('asc' as const, 'desc' as const) }),
  { nil: undefined },
)
