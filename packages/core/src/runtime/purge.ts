import type { Logger } from '../engine/logger.ts'
import type { L3Tier } from '../tiers/l3-tier.ts'
import { describe } from '../write/write-failures.ts'

/** Expired items and old tombstones are purged at most this often (and only after writes). */
export const PURGE_INTERVAL_MS = 3_600_000

/**
 * Turns L3's expired rows into tombstones (they keep their version, so a delayed older write
 * cannot bring them back) and deletes tombstones older than the retention. Shared by the engine's
 * maintenance and the outbox flusher (serverless API instances purge nothing: the flusher does).
 * A failure is logged and left for the next run.
 */
export async function purgeL3(
  l3: L3Tier,
  now: number,
  tombstoneRetentionMs: number,
  logger: Logger,
): Promise<void> {
  try {
    const expired = await l3.purgeExpired(now)
    const purged = await l3.purgeTombstones(now - tombstoneRetentionMs)
    if (expired > 0 || purged > 0) logger.info({ expired, purged }, 'purged expired items and old tombstones')
  } catch (error) {
    logger.warn({ err: describe(error) }, 'purge failed; retried later')
  }
}
