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
  /**
   * `absolute`: an observed figure against a fixed bound, with no baseline (e.g. lookups/s at least
   * 1,000,000, backend calls at most 0); `ratio` then holds the figure, `target` the bound.
   */
  readonly metric: 'throughput' | 'median latency' | 'absolute'
  readonly ratio: number
  /** e.g. 0.5 for "throughput ≥ 50 % of raw", 1.15 for "latency ≤ 115 % of raw". */
  readonly target: number
  readonly pass: boolean
  /** `absolute` only: what the figure counts ("lookups/s"), and whether the bound is a floor. */
  readonly unit?: string
  readonly atLeast?: boolean
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

/**
 * An absolute target, for the few the design states without a baseline: `observed` at least
 * `bound` (`atLeast`) or at most it, e.g. 1,000,000 lookups/s, or 0 backend calls.
 */
export function absoluteVerdict(
  subject: Measurement,
  observed: number,
  bound: number,
  options: { unit: string; atLeast: boolean; name?: string },
): Verdict {
  return {
    ...(options.name ? { name: options.name } : {}),
    subject: subject.label,
    baseline: '',
    metric: 'absolute',
    ratio: observed,
    target: bound,
    pass: options.atLeast ? observed >= bound : observed <= bound,
    unit: options.unit,
    atLeast: options.atLeast,
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
  if (v.metric === 'absolute') {
    return `${formatRate(v.ratio)} ${v.unit} (target ${v.atLeast ? '≥' : '≤'} ${formatRate(v.target)}): **${v.pass ? 'PASS' : 'MISS'}**`
  }
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
  for (const v of result.verdicts) {
    parts.push(
      v.metric === 'absolute'
        ? `**Target:** ${v.subject}, ${verdictText(v)}`
        : `**Ratio:** ${v.subject} ÷ ${v.baseline}, ${verdictText(v)}`,
      '',
    )
  }
  // Separate paragraphs inside one quote: adjacent `>` lines would merge into one.
  if (result.notes.length > 0) parts.push(result.notes.map((note) => `> ${note}`).join('\n>\n'), '')
  return parts.join('\n')
}

const SUMMARY_HEADER = ['scenario', 'engine', 'baseline (same run)', 'compared', 'ratio', 'target', 'result']

/** The summary table's rows of these results: one per verdict. */
function summaryRows(results: readonly ScenarioResult[]): string[][] {
  return results.flatMap((r) => {
    if (r.skipped) return [[r.title, '—', '—', '—', '—', '—', r.skipped]]
    if (r.verdicts.length === 0) return [[r.title, '—', '—', '—', '—', '—', 'info']]
    return r.verdicts.map((v) => {
      if (v.metric === 'absolute') {
        return [
          v.name ? `${r.title} (${v.name})` : r.title,
          `${formatRate(v.ratio)} ${v.unit}`,
          '— (absolute target)',
          v.unit ?? '',
          '—',
          `${v.atLeast ? '≥' : '≤'} ${formatRate(v.target)}`,
          v.pass ? 'PASS' : '**MISS**',
        ]
      }
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
  })
}

export function renderMarkdown(machine: MachineInfo, results: readonly ScenarioResult[], command: string) {
  const packages = Object.entries(machine.packages)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ')
  const services = Object.entries(machine.services)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ')
  const summary = table(SUMMARY_HEADER, summaryRows(results))
  return [
    '# Benchmarks',
    '',
    '<!-- Generated by bench/run.ts: do not edit by hand, re-run `npm run bench`. -->',
    '',
    'Every figure is compared with a raw baseline (or the peer BentoCache) measured **on the same',
    'machine in the same run**. Keys and values are generated before timing starts;',
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
    for (const v of r.verdicts) {
      const compared = v.metric === 'absolute' ? v.subject : `${v.subject} ÷ ${v.baseline}`
      lines.push(`  => ${compared}: ${verdictText(v).replaceAll('**', '')}`)
    }
  }
  return lines.join('\n')
}

/**
 * `existing` (a docs/benchmarks.md from an earlier run) with the sections and summary rows of
 * `results` replaced, or appended where the scenario had none; everything else is kept as it was.
 * Each merged section says when and how it was measured, since the header describes the last full
 * run. For `npm run bench -- --only=<id> --write`.
 */
export function mergeMarkdown(
  existing: string,
  machine: MachineInfo,
  results: readonly ScenarioResult[],
  command: string,
): string {
  const lines = existing.replace(/\n+$/, '').split('\n')
  const summaryAt = lines.indexOf('## Summary')
  if (summaryAt < 0)
    throw new Error('docs/benchmarks.md has no "## Summary": run the full `npm run bench` once')
  // The summary table: its first `|` line after the heading, up to the first line that is not one.
  let tableStart = summaryAt + 1
  while (tableStart < lines.length && !lines[tableStart]!.startsWith('|')) tableStart++
  let tableEnd = tableStart
  while (tableEnd < lines.length && lines[tableEnd]!.startsWith('|')) tableEnd++
  // Each result's rows replace its old ones where they were, or go at the end.
  const titleOf = (row: string) => {
    const first = row.split(' | ')[0]!.replace(/^\| /, '')
    return results.find((r) => first === r.title || first.startsWith(`${r.title} (`))?.title
  }
  const fresh = new Map(
    results.map((r) => [r.title, summaryRows([r]).map((cells) => `| ${cells.join(' | ')} |`)]),
  )
  const rows: string[] = []
  for (const row of lines.slice(tableStart + 2, tableEnd)) {
    const title = titleOf(row)
    if (title === undefined) rows.push(row)
    else if (fresh.has(title)) {
      rows.push(...fresh.get(title)!)
      fresh.delete(title)
    }
  }
  for (const added of fresh.values()) rows.push(...added)

  // Sections: `## <title>` up to the next `## `.
  const sections: { title: string; text: string }[] = []
  let current: string[] | undefined
  for (const line of lines.slice(tableEnd)) {
    if (line.startsWith('## ')) {
      current = [line]
      sections.push({ title: line.slice(3), text: '' })
    } else current?.push(line)
    if (current) sections[sections.length - 1]!.text = current.join('\n').replace(/\n+$/, '')
  }
  const provenance = `*Measured on its own with \`${command}\`: ${machine.date}, commit ${machine.commit}, 1-min load average ${machine.loadStart.toFixed(2)} at the start and ${(machine.loadEnd ?? Number.NaN).toFixed(2)} at the end; the machine, versions and services are those in the table at the top.*`
  for (const result of results) {
    const [heading, ...rest] = scenarioMarkdown(result).replace(/\n+$/, '').split('\n')
    const text = [heading, '', provenance, ...rest].join('\n')
    const found = sections.find((s) => s.title === result.title)
    if (found) found.text = text
    else sections.push({ title: result.title, text })
  }
  // As a full run writes it: a blank line after the last section.
  const body = sections.map((s) => s.text).join('\n\n')
  return [...lines.slice(0, tableStart + 2), ...rows, '', body, '', ''].join('\n')
}
