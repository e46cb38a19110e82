import { setTimeout as sleep } from 'node:timers/promises'

const POLL_MS = 50

/**
 * Polls `check` until it holds, at most `attempts` times (a bounded loop: a hang becomes a named
 * failure, not a test timeout). Throws naming `what`. Nothing is asserted about how long it took.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  attempts = 400,
): Promise<void> {
  let lastError: unknown
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      if (await check()) return
      lastError = undefined
    } catch (error) {
      lastError = error
    }
    await sleep(POLL_MS)
  }
  const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : ''
  throw new Error(`${what}: not reached after ${attempts} polls${why}`)
}
