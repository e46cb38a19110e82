import { NoTierError } from '../../errors.ts'
import type { L3Tier } from '../../tiers/l3-tier.ts'
import type { Partition } from './partition-map.ts'
import type { L3Partitions } from './partitioned-store.ts'

/** Partitions for the engine: registered through L3's breaker, listed from what L3 loaded. */
export class PartitionService {
  constructor(private readonly l3: L3Tier | undefined) {}

  list(): readonly Partition[] {
    return this.#partitions().partitions.list
  }

  register(prefix: string): Promise<{ created: boolean; partition: Partition }> {
    const { l3, partitions } = this.#partitions()
    return l3.guard.runJob('write', () => partitions.register(prefix))
  }

  #partitions(): { l3: L3Tier; partitions: L3Partitions } {
    const partitions = this.l3?.store.partitions
    if (!this.l3 || !partitions) {
      throw new NoTierError('partitions need an SQL L3 (SQLite or MySQL): this engine has none')
    }
    return { l3: this.l3, partitions }
  }
}
