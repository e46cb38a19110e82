import { InvalidArgumentError } from '../errors.ts'
import { SyncItem } from '../item/sync-item.ts'
import type { SubmitOptions } from '../options/submit-options.ts'
import type { SubmitReceipt } from './receipts.ts'

/** What `GetOrInsert` needs of the engine: its public read and write. */
export interface ReadWrite {
  get(id: string): Promise<SyncItem | undefined>
  submit(item: SyncItem, options?: SubmitOptions): Promise<SubmitReceipt>
}

/**
 * `getOrInsertWith`: the item, or — when it does not exist — the factory's item, submitted.
 * Concurrent callers for the same id share one factory run (single flight).
 */
export class GetOrInsert {
  readonly #flights = new Map<string, Promise<SyncItem>>()

  constructor(
    private readonly engine: ReadWrite,
    private readonly now: () => number,
  ) {}

  async run(
    id: string,
    factory: () => SyncItem | Promise<SyncItem>,
    options?: SubmitOptions,
  ): Promise<SyncItem> {
    const existing = await this.engine.get(id)
    if (existing) return existing
    let flight = this.#flights.get(id)
    if (!flight) {
      flight = this.#insertOnce(id, factory, options).finally(() => this.#flights.delete(id))
      this.#flights.set(id, flight)
    }
    return flight
  }

  async #insertOnce(id: string, factory: () => SyncItem | Promise<SyncItem>, options?: SubmitOptions) {
    const raced = await this.engine.get(id)
    if (raced) return raced
    const item = await factory()
    if (!(item instanceof SyncItem) || item.id !== id) {
      throw new InvalidArgumentError(`factory must return a SyncItem with id ${JSON.stringify(id)}`)
    }
    const receipt = await this.engine.submit(item, options)
    return (await this.engine.get(id)) ?? item.withVersion(receipt.version, this.now())
  }
}
