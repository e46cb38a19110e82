import { describe, expect, it } from 'vitest'
import { runEngineKillScenario } from './support/engine-kill-scenario.ts'
import { describeViolations } from './support/report.ts'

/**
 * A write acknowledged at `logged` survives a crash of the engine process. The engine
 * runs as `sync-engine serve` (SQLite L3 in its data directory, default ack `logged`); 16 HTTP
 * writers; kill -9 mid-load; restart on the same data directory; every acknowledged write must be
 * served at its version, nothing deleted may come back. `npm run chaos:engine-kill` runs the same.
 */
describe('chaos: kill -9 of the engine process under HTTP write load', () => {
  it('every write acknowledged before the kill is served after the restart, after more writes, and after a graceful restart', async () => {
    const result = await runEngineKillScenario({ log: (line) => console.log(line) })
    const seeds = `seeds ${result.seeds.join(', ')}`
    expect(result.counts.acknowledged).toBeGreaterThan(0)
    expect(describeViolations(result.afterKill), `right after the restart, ${seeds}`).toBe('no violations')
    expect(describeViolations(result.afterMoreWrites), `after more writes, ${seeds}`).toBe('no violations')
    expect(result.gracefulExit).toEqual({ code: 0, signal: null })
    expect(describeViolations(result.afterGracefulRestart), `after a graceful restart, ${seeds}`).toBe(
      'no violations',
    )
  }, 60_000)
})
