/** The kinds of handle a leaked connection or timer shows up as in `process.getActiveResourcesInfo()`. */
export const WATCHED_RESOURCES = ['TCPSocketWrap', 'Timeout'] as const

export type HandleCounts = Record<(typeof WATCHED_RESOURCES)[number], number>

export function handleCounts(): HandleCounts {
  const counts: HandleCounts = { TCPSocketWrap: 0, Timeout: 0 }
  for (const resource of process.getActiveResourcesInfo()) {
    if (resource in counts) counts[resource as keyof HandleCounts]++
  }
  return counts
}

/** The kinds whose count grew past `baseline`, as text; empty when none did. */
export function grownSince(baseline: HandleCounts, now: HandleCounts = handleCounts()): string {
  return WATCHED_RESOURCES.filter((kind) => now[kind] > baseline[kind])
    .map((kind) => `${kind} ${baseline[kind]} → ${now[kind]}`)
    .join(', ')
}
