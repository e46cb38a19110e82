import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { redactUrl } from '@sync-engine/core'
import { TempDir } from './fixtures.ts'
import { machineInfo } from './machine.ts'
import {
  type BenchContext,
  mergeMarkdown,
  renderMarkdown,
  renderText,
  type Scenario,
  type ScenarioResult,
} from './report.ts'
import { ackLevels } from './scenarios/ack-levels.ts'
import { bentocacheL1 } from './scenarios/bentocache-l1.ts'
import { getMany } from './scenarios/get-many.ts'
import { l1HitGet } from './scenarios/l1-hit-get.ts'
import { l2HitGet } from './scenarios/l2-hit-get.ts'
import { negativeLookups } from './scenarios/negative-lookups.ts'
import { sqliteWrite } from './scenarios/sqlite-write.ts'
import { tieredWrite } from './scenarios/tiered-write.ts'
import { walDrain } from './scenarios/wal-drain.ts'
import { openServices } from './services.ts'
import { nowMs } from './stats.ts'

/** Every scenario, in run order. Add new ones (HTTP, outage drains…) here. */
const SCENARIOS: readonly Scenario[] = [
  l1HitGet,
  bentocacheL1,
  l2HitGet,
  getMany,
  sqliteWrite,
  tieredWrite,
  ackLevels,
  walDrain,
  negativeLookups,
]

const COMMAND = 'npm run bench'
const OUTPUT = join(import.meta.dirname, '..', 'docs', 'benchmarks.md')

/**
 * `npm run bench` runs everything and overwrites docs/benchmarks.md.
 * `npm run bench -- --only=<id>[,<id>]` runs a subset and prints it without touching the docs.
 * `npm run bench -- --only=<id>[,<id>] --write` also puts those scenarios' sections (and summary
 * rows) into docs/benchmarks.md, replacing theirs and keeping every other scenario's as it was.
 */
async function main() {
  const only = process.argv
    .find((arg) => arg.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',')
  const write = process.argv.includes('--write')
  const selected = only ? SCENARIOS.filter((s) => only.includes(s.id)) : SCENARIOS
  if (only && selected.length !== only.length) {
    throw new Error(`unknown scenario in --only; known: ${SCENARIOS.map((s) => s.id).join(', ')}`)
  }

  const log = (message: string) => process.stderr.write(`[bench] ${message}\n`)
  const tmp = new TempDir()
  const services = await openServices()
  for (const service of [services.redis, services.mysql]) {
    log(
      service.available
        ? `${service.label} ${service.version} at ${redactUrl(service.url)} (run ${services.runId})`
        : `${service.label} unreachable, its scenarios are skipped: ${service.reason}`,
    )
  }
  const cleanup = async () => {
    tmp.cleanup()
    await services.cleanup().catch((error: unknown) => log(`cleanup failed: ${String(error)}`))
  }
  const onSignal = () => {
    void cleanup().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const ctx: BenchContext = { tmp, services, log }

  const machine = machineInfo(services.versions())
  const results: ScenarioResult[] = []
  try {
    for (const scenario of selected) {
      log(`${scenario.id}: start`)
      const started = nowMs()
      const result = await scenario.run(ctx)
      if (result.skipped) log(`${scenario.id}: ${result.skipped}`)
      results.push({ ...result, seconds: (nowMs() - started) / 1000 })
    }
  } finally {
    await cleanup()
  }

  process.stdout.write(`${renderText(results)}\n`)
  if (!only) {
    mkdirSync(join(OUTPUT, '..'), { recursive: true })
    writeFileSync(OUTPUT, `${renderMarkdown({ ...machine, loadEnd: loadavg()[0] }, results, COMMAND)}\n`)
    process.stdout.write(`\nwrote ${OUTPUT}\n`)
  } else if (write) {
    if (!existsSync(OUTPUT))
      throw new Error(`--write merges into ${OUTPUT}: run the full \`${COMMAND}\` first`)
    const command = `${COMMAND} -- --only=${only.join(',')} --write`
    const merged = mergeMarkdown(
      readFileSync(OUTPUT, 'utf8'),
      { ...machine, loadEnd: loadavg()[0] },
      results,
      command,
    )
    writeFileSync(OUTPUT, merged)
    process.stdout.write(`\nupdated ${results.map((r) => r.id).join(', ')} in ${OUTPUT}\n`)
  }
}

await main()
