import type { RecoveryCounts, Violation } from './check-history.ts'
import type { History, HistorySummary } from './history.ts'

const SHOWN = 10

/** One line for the log: what the load did and what came back. */
export function describeRun(label: string, summary: HistorySummary, counts?: RecoveryCounts): string {
  const load =
    `${summary.writes} writes on ${summary.ids} ids (${summary.acked} acknowledged, ${summary.unknown} unknown, ` +
    `${summary.failed} refused)${summary.reads > 0 ? `, ${summary.reads} reads (${summary.failedReads} failed)` : ''}` +
    (summary.firstReadFailure ? `; first failed read: ${summary.firstReadFailure}` : '')
  if (!counts) return `${label}: ${load}`
  return (
    `${label}: acknowledged ${counts.acknowledged}, recovered ${counts.recovered} ` +
    `(ids pinned by an acknowledged write; ${counts.inFlight} writes in flight, ${counts.inFlightVisible} of them visible) — ${load}`
  )
}

/** The violations as a readable assertion message (the first few, and how many more). */
export function describeViolations(violations: readonly Violation[], history?: History): string {
  if (violations.length === 0) return 'no violations'
  const phase = (v: Violation) => {
    const label = v.tick === undefined ? undefined : history?.phaseAt(v.tick)
    return label === undefined ? '' : ` [after "${label}"]`
  }
  const lines = violations
    .slice(0, SHOWN)
    .map((v) => `  ${v.rule} ${JSON.stringify(v.id)}${phase(v)}: ${v.message}`)
  const more = violations.length > SHOWN ? `\n  … and ${violations.length - SHOWN} more` : ''
  const byRule = new Map<string, number>()
  for (const violation of violations) byRule.set(violation.rule, (byRule.get(violation.rule) ?? 0) + 1)
  const tally = [...byRule].map(([rule, n]) => `${rule} ×${n}`).join(', ')
  return `${violations.length} violations (${tally}):\n${lines.join('\n')}${more}`
}
