import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
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
import { httpGet } from './scenarios/http-get.ts'
import { httpPut } from './scenarios/http-put.ts'
import { l1HitGet } from './scenarios/l1-hit-get.ts'
import { l2HitGet } from './scenarios/l2-hit-get.ts'
import { negativeLookups } from './scenarios/negative-lookups.ts'
import { outboxDrain } from './scenarios/outbox-drain.ts'
import { searchQueries } from './scenarios/search-queries.ts'
import { sequentialLogged } from './scenarios/sequential-logged.ts'
import { sequentialStored } from './scenarios/sequential-stored.ts'
import { serverlessEntries } from './scenarios/serverless-entries.ts'
import { sqliteWrite } from './scenarios/sqlite-write.ts'
import { tieredWrite } from './scenarios/tiered-write.ts'
import { upstashWrites } from './scenarios/upstash-writes.ts'
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
  upstashWrites,
  ackLevels,
  sequentialStored,
  sequentialLogged,
  walDrain,
  negativeLookups,
  httpGet,
  httpPut,
  outboxDrain,
  serverlessEntries,
  searchQueries,
]

const COMMAND = 'npm run bench'
const OUTPUT = join(import.meta.dirname, '..', 'docs', 'benchmarks.md')

/**
 * `npm run bench` runs everything and overwrites docs/benchmarks.md.
 * `npm run bench -- --only=<id>[,<id>]` runs a subset and prints it without touching the docs.
 * `npm run bench -- --only=<id>[,<id>] --write` also puts those scenarios' sections (and summary
 * rows) into docs/benchmarks.md, replacing theirs and keeping every other scenario's as it was.
 *
 * When more than one scenario runs, each runs in a process of its own (this script again, with
 * `--only=<id> --result-file=<path>`): its heap, JIT and GC start fresh, so its figures do not
 * depend on what ran before it. In one process the later scenarios measured up to 25 % lower than
 * on their own (SQLite write 66 % against 79 % of raw, negative lookups 0.9 against 1.3 M/s).
 */
async function main() {
  const only = process.argv
    .find((arg) => arg.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',')
  const write = process.argv.includes('--write')
  const resultFile = process.argv
    .find((arg) => arg.startsWith('--result-file='))
    ?.slice('--result-file='.length)
  const selected = only ? SCENARIOS.filter((s) => only.includes(s.id)) : SCENARIOS
  if (only && selected.length !== only.length) {
    throw new Error(`unknown scenario in --only; known: ${SCENARIOS.map((s) => s.id).join(', ')}`)
  }

  const log = (message: string) => process.stderr.write(`[bench] ${message}\n`)
  const tmp = new TempDir()
  const services = await openServices()
  // A scenario's own process (--result-file) leaves this to the run that started it.
  for (const service of resultFile ? [] : [services.redis, services.mysql]) {
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
      const result = selected.length > 1 ? await runIsolated(scenario, tmp) : await scenario.run(ctx)
      if (result.skipped) log(`${scenario.id}: ${result.skipped}`)
      results.push({ ...result, seconds: (nowMs() - started) / 1000 })
    }
  } finally {
    await cleanup()
  }
  if (resultFile) {
    writeFileSync(resultFile, JSON.stringify(results[0]))
    return
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

/** Runs one scenario in a child process (this script) and reads back its result. */
async function runIsolated(scenario: Scenario, tmp: TempDir): Promise<ScenarioResult> {
  const file = tmp.file(`result-${scenario.id}.json`)
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), `--only=${scenario.id}`, `--result-file=${file}`],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
  if (code !== 0)
    throw new Error(`scenario ${scenario.id} failed in its own process (${signal ?? `exit ${code}`})`)
  return JSON.parse(readFileSync(file, 'utf8')) as ScenarioResult
}

await main()
