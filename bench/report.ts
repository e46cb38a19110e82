import type { TempDir } from './fixtures.ts'
import type { MachineInfo } from './machine.ts'
import type { Summary } from './stats.ts'

/** What a scenario gets from the runner. */
export interface BenchContext {
  readonly tmp: TempDir
  /** Progress line on stderr (stdout carries the summary). */
  log(message: string): void
}

/** One scenario: a file in bench/scenarios/, registered in bench/run.ts. */
export interface Scenario {
  readonly id: string
  readonly title: string
  run(ctx: BenchContext): Promise<ScenarioResult>
}

export type Role = 'subject' | 'baseline' | 'info'

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

/** The scenario's target: subject throughput as a fraction of the baseline's, measured in the same run. */
export interface Verdict {
  readonly subject: string
  readonly baseline: string
  readonly ratio: number
  /** Minimum ratio, e.g. 0.5 for "≥ 50 % of raw". */
  readonly target: number
  readonly pass: boolean
}

export interface ScenarioResult {
  readonly id: string
  readonly title: string
  readonly setup: readonly string[]
  readonly measurements: readonly Measurement[]
  readonly verdict?: Verdict
  readonly notes: readonly string[]
  readonly seconds?: number
}

export function verdict(subject: Measurement, baseline: Measurement, target: number): Verdict {
  const ratio = subject.throughput / baseline.throughput
  return { subject: subject.label, baseline: baseline.label, ratio, target, pass: ratio >= target }
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

const ROLE_LABEL: Record<Role, string> = { subject: 'engine', baseline: 'raw baseline', info: 'info' }

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
  return `${formatPercent(v.ratio)} of raw (target ≥ ${formatPercent(v.target)}): **${v.pass ? 'PASS' : 'MISS'}**`
}

function scenarioMarkdown(result: ScenarioResult): string {
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
  if (result.verdict) {
    const v = result.verdict
    parts.push(`**Ratio:** ${v.subject} ÷ ${v.baseline} = ${verdictText(v)}`, '')
  }
  if (result.notes.length > 0) parts.push(...result.notes.map((note) => `> ${note}`), '')
  return parts.join('\n')
}

export function renderMarkdown(machine: MachineInfo, results: readonly ScenarioResult[], command: string) {
  const packages = Object.entries(machine.packages)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ')
  const summary = table(
    ['scenario', 'engine', 'raw baseline (same run)', 'ratio', 'target', 'result'],
    results.map((r) => {
      const v = r.verdict
      const subject = r.measurements.find((m) => m.role === 'subject')
      const baseline = r.measurements.find((m) => m.role === 'baseline')
      return [
        r.title,
        subject ? `${formatRate(subject.throughput)} ${subject.unit}` : '—',
        baseline ? `${formatRate(baseline.throughput)} ${baseline.unit}` : '—',
        v ? formatPercent(v.ratio) : '—',
        v ? `≥ ${formatPercent(v.target)}` : '—',
        v ? (v.pass ? 'PASS' : '**MISS**') : 'info',
      ]
    }),
  )
  return [
    '# Benchmarks',
    '',
    '<!-- Generated by bench/run.ts: do not edit by hand, re-run `npm run bench`. -->',
    '',
    'Every figure is compared with a raw baseline measured **on the same machine in the same run**',
    '(DESIGN §7). Keys and values are generated before timing starts; figures are medians and',
    'percentiles, not means ± RME. A single run on a shared or virtual machine moves by several',
    'percent: read ratios, not absolute rates, and compare runs only on the same machine.',
    '',
    table(
      ['', ''],
      [
        ['date', machine.date],
        ['machine', `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM`],
        ['OS', machine.os],
        ['Node', `${machine.node} (V8 ${machine.v8})`],
        ['packages', packages],
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
    for (const m of r.measurements) {
      const l = m.latency.ns
      lines.push(
        `  ${m.label} [${ROLE_LABEL[m.role]}]`,
        `      ${formatRate(m.throughput)} ${m.unit}; median ${formatNs(l.median)}, p95 ${formatNs(l.p95)}, p99 ${formatNs(l.p99)} (${m.latency.sampleOf}, n=${l.n})`,
      )
      if (m.detail) lines.push(`      ${m.detail}`)
    }
    if (r.verdict) lines.push(`  => ${verdictText(r.verdict).replaceAll('**', '')}`)
  }
  return lines.join('\n')
}
