import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TempDir } from './fixtures.ts'
import { machineInfo } from './machine.ts'
import {
  type BenchContext,
  renderMarkdown,
  renderText,
  type Scenario,
  type ScenarioResult,
} from './report.ts'
import { l1HitGet } from './scenarios/l1-hit-get.ts'
import { sqliteWrite } from './scenarios/sqlite-write.ts'
import { nowMs } from './stats.ts'

/** Every scenario, in run order. Add new ones (L2 Redis, BentoCache, HTTP) here. */
const SCENARIOS: readonly Scenario[] = [l1HitGet, sqliteWrite]

const COMMAND = 'npm run bench'
const OUTPUT = join(import.meta.dirname, '..', 'docs', 'benchmarks.md')

/**
 * `npm run bench` runs everything and overwrites docs/benchmarks.md.
 * `npm run bench -- --only=<id>[,<id>]` runs a subset and prints it without touching the docs.
 */
async function main() {
  const only = process.argv
    .find((arg) => arg.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',')
  const selected = only ? SCENARIOS.filter((s) => only.includes(s.id)) : SCENARIOS
  if (only && selected.length !== only.length) {
    throw new Error(`unknown scenario in --only; known: ${SCENARIOS.map((s) => s.id).join(', ')}`)
  }

  const tmp = new TempDir()
  const onSignal = () => {
    tmp.cleanup()
    process.exit(130)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const ctx: BenchContext = { tmp, log: (message) => process.stderr.write(`[bench] ${message}\n`) }

  const machine = machineInfo()
  const results: ScenarioResult[] = []
  try {
    for (const scenario of selected) {
      ctx.log(`${scenario.id}: start`)
      const started = nowMs()
      const result = await scenario.run(ctx)
      results.push({ ...result, seconds: (nowMs() - started) / 1000 })
    }
  } finally {
    tmp.cleanup()
  }

  process.stdout.write(`${renderText(results)}\n`)
  if (!only) {
    mkdirSync(join(OUTPUT, '..'), { recursive: true })
    writeFileSync(OUTPUT, `${renderMarkdown(machine, results, COMMAND)}\n`)
    process.stdout.write(`\nwrote ${OUTPUT}\n`)
  }
}

await main()
