import { mergeRanked } from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'

const hit = (id: string, sortValue?: number | null) => ({
  id,
  version: 1,
  ...(sortValue !== undefined && { sortValue }),
})

describe('mergeRanked', () => {
  it('takes nothing past the end of a source that has more, even when its items were taken out', () => {
    // L3 answered a..c (more after c); c was replaced by a pending write that no longer matches,
    // so L3's items are a, b — but its next page starts after c, so e must wait.
    const merged = mergeRanked(
      [
        { items: [hit('a'), hit('b')], more: true, end: hit('c') },
        { items: [hit('bb'), hit('e')], more: false },
      ],
      10,
      false,
      'asc',
    )
    expect(merged.items.map((h) => h.id)).toEqual(['a', 'b', 'bb'])
    expect(merged.more).toBe(true)
    expect(merged.end?.id).toBe('bb')
  })

  it('gives the bound as where to go on when every item of a page was taken out', () => {
    const merged = mergeRanked(
      [
        { items: [], more: true, end: hit('c') },
        { items: [hit('z')], more: false },
      ],
      5,
      false,
      'asc',
    )
    expect(merged.items).toEqual([])
    expect(merged).toMatchObject({ more: true, end: { id: 'c' } })
  })

  it('orders by sort value then id, missing values last in either direction, and cuts at the limit', () => {
    const sources = [
      { items: [hit('a', 1), hit('b', null)], more: false },
      { items: [hit('c', 2), hit('d', 1)], more: false },
    ]
    expect(mergeRanked(sources, 3, true, 'asc').items.map((h) => h.id)).toEqual(['a', 'd', 'c'])
    const desc = mergeRanked(sources, 4, true, 'desc')
    expect(desc.items.map((h) => h.id)).toEqual(['c', 'd', 'a', 'b'])
    expect(desc.more).toBe(false)
    expect(mergeRanked(sources, 3, true, 'asc').more).toBe(true)
  })
})
