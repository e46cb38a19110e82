import { MemoryL3Store, NoTierError, SyncEngine } from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'

describe('engine search without an SQL L3', () => {
  it('is a NoTierError (422) that says search needs SQL, for every search call', async () => {
    const engine = new SyncEngine({ l3: new MemoryL3Store(), maintenance: 'manual' })
    await engine.start()
    try {
      await expect(
        engine.search({ index: 'x', query: { eq: { field: 'a', value: 'b' } } }),
      ).rejects.toBeInstanceOf(NoTierError)
      await expect(
        engine.defineIndex({ name: 'x', prefix: '', fields: { a: { type: 'tag', path: '$.a' } } }),
      ).rejects.toThrow(/needs an SQL L3/)
      expect(() => engine.listIndexes()).toThrow(NoTierError)
      // A bad request is still a bad request: validated before the tier is asked.
      await expect(engine.search({ index: 'x', query: { nope: {} } })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      })
    } finally {
      await engine.shutdown()
    }
  })

  it('refuses searchBackend "redis" at start without a Redis L2', async () => {
    const engine = new SyncEngine({
      l3: new MemoryL3Store(),
      config: { searchBackend: 'redis' },
      maintenance: 'manual',
    })
    await expect(engine.start()).rejects.toMatchObject({
      code: 'NO_TIER',
      message: expect.stringMatching(/searchBackend "redis" needs a Redis L2/),
    })
  })
})
