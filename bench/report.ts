import type { TempDir } from './fixtures.ts'
import type { MachineInfo } from './machine.ts'
import type { Services } from './services.ts'
import type { Summary } from './stats.ts'

/** What a scenario gets from the runner. */
export interface BenchContext {
  readonly tmp: TempDir
  /** Redis and MariaDB, isolated per run (unique key prefix and table names), or why not. */
  readonly services: Services
  /** Progress line on stderr (stdout carries the summary). */
  log(message: string): void
}

/** One scenario: a file in bench/scenarios/, registered in bench/run.ts. */
export interface Scenario {
  readonly id: string
  readonly title: string
  run(ctx: BenchContext): Promise<ScenarioResult>
}

export type Role = 'subject' | 'baseline' | 'peer' | 'info'

/** Latency samples of one kind, in nanoseconds. */
export interface LatencySet {
  /** What one sample is, e.g. "per get (mean of a 1,000-get block)". */
  readonly sampleOf: string
  readonly ns: Summary
}

/** One side of a comparison (the engine, the raw baseline) or an informational variant. */
export interface Measurement {
  readonly label: string
  readonly role: Role
  readonly latency: LatencySet
  /** Further latency sets shown in a second table (e.g. per-batch commit latency). */
  readonly batchLatency?: LatencySet
  readonly throughput: number
  readonly unit: string
  readonly detail?: string
}

/**
 * A target: the subject's figure as a multiple of the baseline's, measured in the same run. Either
 * throughput (subject ÷ baseline, at least `target`) or median latency (subject ÷ baseline, at
 * most `target`).
 */
export interface Verdict {
  /** Tells verdicts of one scenario apart in the summary, e.g. "ack 'queued'". */
  readonly name?: string
  readonly subject: string
  readonly baseline: string
  readonly metric: 'throughput' | 'median latency'
  readonly ratio: number
  /** e.g. 0.5 for "throughput ≥ 50 % of raw", 1.15 for "latency ≤ 115 % of raw". */
  readonly target: number
  readonly pass: boolean
}

export interface ScenarioResult {
  readonly id: string
  readonly title: string
  readonly setup: readonly string[]
  readonly measurements: readonly Measurement[]
  readonly verdicts: readonly Verdict[]
  readonly notes: readonly string[]
  /** Set when the scenario could not run (a service unreachable): the line the report shows. */
  readonly skipped?: string
  readonly seconds?: number
}

/** Throughput target: subject ÷ baseline ≥ `target`. */
export function verdict(subject: Measurement, baseline: Measurement, target: number, name?: string): Verdict {
  const ratio = subject.throughput / baseline.throughput
  return {
    ...(name ? { name } : {}),
    subject: subject.label,
    baseline: baseline.label,
    metric: 'throughput',
    ratio,
    target,
    pass: ratio >= target,
  }
}

/** Latency target: subject's median ÷ baseline's median ≤ `target`. */
export function latencyVerdict(
  subject: Measurement,
  baseline: Measurement,
  target: number,
  name?: string,
): Verdict {
  const ratio = subject.latency.ns.median / baseline.latency.ns.median
  return {
    ...(name ? { name } : {}),
    subject: subject.label,
    baseline: baseline.label,
    metric: 'median latency',
    ratio,
    target,
    pass: ratio <= target,
  }
}

/** The result of a scenario that could not run. */
export function skippedResult(scenario: Scenario, reason: string): ScenarioResult {
  return {
    id: scenario.id,
    title: scenario.title,
    setup: [],
    measurements: [],
    verdicts: [],
    notes: [],
    skipped: reason,
  }
}

// ── formatting ─────────────────────────────────────────────────────────────────────────────────

export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return 'n/a'
  if (ns < 1_000) return `${ns.toFixed(ns < 100 ? 1 : 0)} ns`
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(ns < 10_000 ? 2 : 1)} µs`
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(ns < 10_000_000 ? 2 : 1)} ms`
  return `${(ns / 1_000_000_000).toFixed(2)} s`
}

export function formatRate(rate: number): string {
  return Math.round(rate).toLocaleString('en-US')
}

export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)} %`
}

/** A ratio as a percentage, or as a multiple from 2× up (e.g. "6.31×"). */
export function formatRatio(ratio: number): string {
  return ratio >= 2 ? `${ratio.toFixed(2)}×` : formatPercent(ratio)
}

const ROLE_LABEL: Record<Role, string> = {
  subject: 'engine',
  baseline: 'raw baseline',
  peer: 'peer',
  info: 'info',
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

function latencyRow(label: string, role: Role, set: LatencySet): string[] {
  return [
    `${label} (${ROLE_LABEL[role]})`,
    set.sampleOf,
    String(set.ns.n),
    formatNs(set.ns.median),
    formatNs(set.ns.p95),
    formatNs(set.ns.p99),
  ]
}

function verdictText(v: Verdict): string {
  const bound = v.metric === 'throughput' ? '≥' : '≤'
  return `${v.metric} ${formatRatio(v.ratio)} (target ${bound} ${formatRatio(v.target)}): **${v.pass ? 'PASS' : 'MISS'}**`
}

/** The figure a verdict compares, for the summary table. */
function verdictFigure(m: Measurement | undefined, v: Verdict): string {
  if (!m) return '—'
  return v.metric === 'throughput'
    ? `${formatRate(m.throughput)} ${m.unit}`
    : `${formatNs(m.latency.ns.median)} median`
}

function scenarioMarkdown(result: ScenarioResult): string {
  if (result.skipped) return [`## ${result.title}`, '', `**${result.skipped}**`, ''].join('\n')
  const parts = [`## ${result.title}`, '', ...result.setup.map((line) => `- ${line}`), '']
  parts.push(
    table(
      ['', 'sample', 'n', 'median', 'p95', 'p99', 'throughput'],
      result.measurements.map((m) => [
        ...latencyRow(m.label, m.role, m.latency),
        `${formatRate(m.throughput)} ${m.unit}`,
      ]),
    ),
    '',
  )
  const batched = result.measurements.filter((m) => m.batchLatency)
  if (batched.length > 0) {
    parts.push(
      'Per-batch latency:',
      '',
      table(
        ['', 'sample', 'n', 'median', 'p95', 'p99'],
        batched.map((m) => latencyRow(m.label, m.role, m.batchLatency!)),
      ),
      '',
    )
  }
  const details = result.measurements.filter((m) => m.detail)
  for (const m of details) parts.push(`- *${m.label}:* ${m.detail}`)
  if (details.length > 0) parts.push('')
  for (const v of result.verdicts)
    parts.push(`**Ratio:** ${v.subject} ÷ ${v.baseline}, ${verdictText(v)}`, '')
  // Separate paragraphs inside one quote: adjacent `>` lines would merge into one.
  if (result.notes.length > 0) parts.push(result.notes.map((note) => `> ${note}`).join('\n>\n'), '')
  return parts.join('\n')
}

export function renderMarkdown(machine: MachineInfo, results: readonly ScenarioResult[], command: string) {
  const packages = Object.entries(machine.packages)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ')
  const services = Object.entries(machine.services)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ')
  const summary = table(
    ['scenario', 'engine', 'baseline (same run)', 'compared', 'ratio', 'target', 'result'],
    results.flatMap((r) => {
      if (r.skipped) return [[r.title, '—', '—', '—', '—', '—', r.skipped]]
      if (r.verdicts.length === 0) return [[r.title, '—', '—', '—', '—', '—', 'info']]
      return r.verdicts.map((v) => {
        const subject = r.measurements.find((m) => m.label === v.subject)
        const baseline = r.measurements.find((m) => m.label === v.baseline)
        return [
          v.name ? `${r.title} (${v.name})` : r.title,
          verdictFigure(subject, v),
          `${verdictFigure(baseline, v)} (${baseline ? ROLE_LABEL[baseline.role] : '?'})`,
          v.metric,
          formatRatio(v.ratio),
          `${v.metric === 'throughput' ? '≥' : '≤'} ${formatRatio(v.target)}`,
          v.pass ? 'PASS' : '**MISS**',
        ]
      })
    }),
  )
  return [
    '# Benchmarks',
    '',
    '<!-- Generated by bench/run.ts: do not edit by hand, re-run `npm run bench`. -->',
    '',
    'Every figure is compared with a raw baseline (or the peer BentoCache) measured **on the same',
    'machine in the same run** (DESIGN §7). Keys and values are generated before timing starts;',
    'figures are medians and percentiles, not means ± RME. A single run on a shared or virtual machine',
    'moves by several percent: read ratios, not absolute rates, and compare runs only on the same machine.',
    '',
    'Redis and MariaDB scenarios use `SYNC_BENCH_REDIS_URL` (default `redis://127.0.0.1:6379`) and',
    '`SYNC_BENCH_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`). Each run writes under a key',
    'prefix and into tables of its own, and deletes them afterwards (SCAN + UNLINK of that prefix,',
    'DROP TABLE); a scenario whose service does not answer is skipped, and says so below.',
    '',
    table(
      ['', ''],
      [
        ['date', machine.date],
        ['machine', `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM`],
        ['OS', machine.os],
        ['Node', `${machine.node} (V8 ${machine.v8})`],
        [
          'load',
          `1-min load average ${machine.loadStart.toFixed(2)} at the start, ${(machine.loadEnd ?? Number.NaN).toFixed(2)} at the end (other processes share these ${machine.cores} cores)`,
        ],
        ['packages', packages],
        ['services', services],
        ['commit', machine.commit],
        ['reproduce', `\`${command}\``],
      ],
    ),
    '',
    '## Summary',
    '',
    summary,
    '',
    ...results.map(scenarioMarkdown),
  ].join('\n')
}

/** The stdout summary: one block per scenario. */
export function renderText(results: readonly ScenarioResult[]): string {
  const lines: string[] = []
  for (const r of results) {
    lines.push('', `== ${r.title}${r.seconds !== undefined ? ` (${r.seconds.toFixed(1)} s)` : ''}`)
    if (r.skipped) {
      lines.push(`  ${r.skipped}`)
      continue
    }
    for (const m of r.measurements) {
      const l = m.latency.ns
      lines.push(
        `  ${m.label} [${ROLE_LABEL[m.role]}]`,
        `      ${formatRate(m.throughput)} ${m.unit}; median ${formatNs(l.median)}, p95 ${formatNs(l.p95)}, p99 ${formatNs(l.p99)} (${m.latency.sampleOf}, n=${l.n})`,
      )
      if (m.detail) lines.push(`      ${m.detail}`)
    }
    for (const v of r.verdicts)
      lines.push(`  => ${v.subject} ÷ ${v.baseline}: ${verdictText(v).replaceAll('**', '')}`)
  }
  return lines.join('\n')
}
