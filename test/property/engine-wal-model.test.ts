import { CircuitOpenError, isSyncError, SyncEngine, SyncItem } from '@sync-engine/core'
import { createSqliteStore, SqliteWriteAheadLog } from '@sync-engine/sql-sqlite'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FlakyL3 } from '../support/flaky-l3.ts'
import { makeTempDir } from '../support/temp-dir.ts'

/**
 * The engine with a write-ahead log against a model, through L3 outages and crashes: every write
 * acknowledged as `logged` must end up stored at its version (nothing lost), and no delete may be
 * undone (nothing resurrected), whatever happened between.
 */

type Op =
  | { op: 'put'; id: string; n: number }
  | { op: 'delete'; id: string }
  | { op: 'l3Down' }
  | { op: 'l3Up' }
  | { op: 'crash' }
  | { op: 'flush' }

const ids = fc.constantFrom('a', 'b', 'c', 'd')
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('put' as const), id: ids, n: fc.nat(1000) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), id: ids }) },
  { weight: 1, arbitrary: fc.constant({ op: 'l3Down' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'l3Up' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'crash' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'flush' as const }) },
)

class Node {
  engine!: SyncEngine
  l3!: FlakyL3
  wal!: SqliteWriteAheadLog
  down = false

  constructor(private readonly dir: string) {}

  async open() {
    this.l3 = new FlakyL3(createSqliteStore({ path: `${this.dir}/sync.db` }))
    this.l3.down = this.down
    this.wal = new SqliteWriteAheadLog({ path: `${this.dir}/wal.db`, maxBytes: 1 << 26 })
    this.engine = new SyncEngine({
      l3: this.l3,
      wal: this.wal,
      config: { batchFlushMs: 5 },
      breakers: { l3: { failureThreshold: 1, openMs: 10, maxOpenMs: 10 } },
    })
    await this.engine.start()
  }

  setDown(down: boolean) {
    this.down = down
    this.l3.down = down
  }

  /** The process dies: the log keeps what it committed; nothing else is flushed or closed in order. */
  async crash() {
    await this.wal.close()
    this.l3.down = true
    await this.engine.shutdown().catch(() => {})
    await this.open()
  }
}

describe('SyncEngine with a write-ahead log against a model (outages and crashes)', () => {
  it('every logged write survives at its version; deleted ids stay deleted', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30, size: 'max' }), async (ops) => {
        const dir = makeTempDir('engine-wal-model')
        const node = new Node(dir.path)
        const model = new Map<string, { version: number; n: number } | { version: number; deleted: true }>()
        try {
          await node.open()
          for (const step of ops) {
            if (step.op === 'put') {
              const receipt = await node.engine.submit(SyncItem.fromJson(step.id, { n: step.n }), {
                ack: 'logged',
              })
              expect(receipt.ack).toBe('logged')
              model.set(step.id, { version: receipt.version, n: step.n })
            } else if (step.op === 'delete') {
              const receipt = await node.engine.delete(step.id, { ack: 'logged' })
              model.set(step.id, { version: receipt.version, deleted: true })
            } else if (step.op === 'l3Down') node.setDown(true)
            else if (step.op === 'l3Up') node.setDown(false)
            else if (step.op === 'crash') await node.crash()
            else await node.engine.flush().catch(() => {})
            // Read your writes after every step. While L3 is down (or its breaker has not yet let a
            // probe through) a read of a write that already left the log may be unavailable (a
            // typed, retryable 503), but it is never wrong.
            for (const [id, expected] of model) {
              let found: SyncItem | undefined
              try {
                found = await node.engine.get(id)
              } catch (error) {
                const outage = node.down || error instanceof CircuitOpenError
                if (outage && isSyncError(error) && error.retryable && error.status === 503) continue
                throw error
              }
              if ('deleted' in expected) expect(found).toBeUndefined()
              else
                expect({ id, version: found?.version, n: found?.json<{ n: number }>().n }).toEqual({
                  id,
                  ...expected,
                })
            }
          }
          // L3 returns and the engine stops cleanly: L3 itself must now hold exactly the model.
          node.setDown(false)
          await node.crash()
          await node.engine.shutdown()
          const store = createSqliteStore({ path: `${dir.path}/sync.db` })
          await store.init()
          const stored = await store.read([...model.keys()])
          await store.close()
          for (const [id, expected] of model) {
            const record = stored.get(id)
            expect(record?.version).toBe(expected.version)
            expect(record?.tombstone).toBe('deleted' in expected)
          }
        } finally {
          await node.engine?.shutdown().catch(() => {})
          dir.remove()
        }
      }),
      { numRuns: 30 },
    )
  }, 120_000)
})
