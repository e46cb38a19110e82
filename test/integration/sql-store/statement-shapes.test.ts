import { join } from 'node:path'
import {
  InvalidArgumentError,
  PayloadTooLargeError,
  type SqlResult,
  type SqlStatement,
  SqlStore,
  type SqlTransport,
  sqliteDialect,
} from '@sync-engine/core/internal'
import { BetterSqlite3Transport } from '@sync-engine/sql-sqlite'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'
import { binaryRecord, jsonRecord, patternBytes } from '../conformance/l3-records.ts'

/**
 * How SqlStore shapes its statements, whatever the backend: few distinct texts (each is a prepared
 * statement per connection on MySQL), statements within the transport's byte limit, and refused
 * data isolated to its rows. Run over a real SQLite transport wrapped to record, limit or refuse.
 */

const dir = makeTempDir('statement-shapes')
afterAll(() => dir.remove())
let files = 0
const open: SqlStore[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()))
})

class RecordingTransport implements SqlTransport {
  readonly driver = 'recording'
  readonly dialect = 'sqlite' as const
  readonly target = 'recording'
  readonly texts = new Set<string>()
  readonly batches: SqlStatement[][] = []
  readonly #inner = new BetterSqlite3Transport(join(dir.path, `shapes-${++files}.db`))

  constructor(
    readonly maxStatementBytes?: number,
    /** A parameter value the "server" refuses, as MySQL refuses a value that breaks a CHECK. */
    private readonly poison?: string,
  ) {}

  async run(statement: SqlStatement): Promise<SqlResult> {
    this.texts.add(statement.sql)
    return this.#inner.run(statement)
  }

  async runAtomically(statements: readonly SqlStatement[]): Promise<SqlResult[]> {
    for (const s of statements) this.texts.add(s.sql)
    if (this.poison !== undefined && statements.some((s) => s.params.includes(this.poison!))) {
      throw new InvalidArgumentError('refused: poisoned value')
    }
    this.batches.push([...statements])
    return this.#inner.runAtomically(statements)
  }

  close() {
    return this.#inner.close()
  }
}

async function storeOver(transport: RecordingTransport): Promise<SqlStore> {
  const store = new SqlStore(transport, sqliteDialect)
  open.push(store)
  await store.init()
  return store
}

/** What the store counts for a statement: SQL text, and per parameter its bytes plus 11. */
function estimatedBytes(statement: SqlStatement): number {
  let bytes = statement.sql.length
  for (const p of statement.params) {
    bytes += 11
    if (typeof p === 'string') bytes += Buffer.byteLength(p)
    else if (p instanceof Uint8Array) bytes += p.byteLength
    else if (p !== null) bytes += 8
  }
  return bytes
}

describe('SqlStore statement shapes', () => {
  it('writes and reads of any size use a bounded set of statement texts', async () => {
    const transport = new RecordingTransport()
    const store = await storeOver(transport)
    const before = transport.texts.size
    let version = 0
    for (let size = 1; size <= 700; size += 13) {
      version++
      const records = Array.from({ length: size }, (_, i) => jsonRecord(`id-${i}`, version))
      expect((await store.write(records)).applied).toBe(size)
      expect((await store.read(records.map((r) => r.id))).size).toBe(size)
    }
    const upserts = [...transport.texts].filter((t) => t.startsWith('INSERT'))
    const selects = [...transport.texts].filter((t) => t.startsWith('SELECT'))
    // 100 rows, and the powers of two below it; IN lists of 1, 2, 4 … 512.
    expect(upserts.length).toBeLessThanOrEqual(8)
    expect(selects.length).toBeLessThanOrEqual(2 * 10)
    expect(transport.texts.size - before).toBeLessThanOrEqual(30)
  })

  it('keeps every statement within the transport byte limit and rejects only a record that cannot fit alone', async () => {
    const limit = 64 * 1024
    const transport = new RecordingTransport(limit)
    const store = await storeOver(transport)
    const records = Array.from({ length: 40 }, (_, i) =>
      binaryRecord(`r-${i}`, 1, patternBytes(5_000 + i * 100)),
    )
    const tooBig = binaryRecord('too-big', 1, patternBytes(limit))
    const result = await store.write([...records, tooBig])
    expect(result.applied).toBe(40)
    expect(result.rejected?.get('too-big')).toBeInstanceOf(PayloadTooLargeError)
    const statements = transport.batches.flat().filter((s) => s.sql.startsWith('INSERT'))
    expect(statements.length).toBeGreaterThan(1)
    for (const s of statements) expect(estimatedBytes(s)).toBeLessThanOrEqual(limit)
    // The announced maximum is a promise: content of exactly that size fits.
    const max = store.capabilities.maxContentBytes!
    expect(max).toBeGreaterThan(limit - 4_096)
    expect((await store.write([binaryRecord('x'.repeat(512), 1, patternBytes(max))])).applied).toBe(1)
  })

  it('prices rows by the UTF-8 bytes of their text columns: multi-byte ids and states stay within the limit, and the announced maximum still fits', async () => {
    const limit = 64 * 1024
    const transport = new RecordingTransport(limit)
    const store = await storeOver(transport)
    // 170 three-byte characters: 510 bytes of id in 170 UTF-16 units; a state of 2-byte characters.
    const wide = (i: number) => `${'日'.repeat(168)}${String(i).padStart(2, '0')}`
    const state = 'é'.repeat(64)
    const records = Array.from({ length: 60 }, (_, i) => ({
      ...binaryRecord(wide(i), 1, patternBytes(2_000 + i * 50)),
      state,
    }))
    const result = await store.write(records)
    expect(result.applied).toBe(60)
    expect(result.rejected).toBeUndefined()
    const statements = transport.batches.flat().filter((s) => s.sql.startsWith('INSERT'))
    expect(statements.length).toBeGreaterThan(1)
    for (const s of statements) expect(estimatedBytes(s)).toBeLessThanOrEqual(limit)
    const max = store.capabilities.maxContentBytes!
    const largest = { ...binaryRecord(wide(99), 2, patternBytes(max)), state }
    expect((await store.write([largest])).applied).toBe(1)
    const tooBig = { ...binaryRecord('too-big', 1, patternBytes(limit)), state }
    const mixed = await store.write([tooBig, { ...binaryRecord(wide(98), 1, patternBytes(10)), state }])
    expect(mixed.applied).toBe(1)
    expect(mixed.rejected?.get('too-big')).toBeInstanceOf(PayloadTooLargeError)
    expect((await store.read([wide(99), wide(98)])).size).toBe(2)
  })

  it('isolates the records whose data the server refuses, and writes every other record', async () => {
    const transport = new RecordingTransport(undefined, 'poison')
    const store = await storeOver(transport)
    const records = Array.from({ length: 300 }, (_, i) => ({
      ...jsonRecord(`r-${String(i).padStart(3, '0')}`, 1),
      ...(i === 17 || i === 250 ? { state: 'poison' } : {}),
    }))
    const result = await store.write(records)
    expect(result.applied).toBe(298)
    expect([...(result.rejected?.keys() ?? [])].sort()).toEqual(['r-017', 'r-250'])
    expect(result.rejected?.get('r-017')).toBeInstanceOf(InvalidArgumentError)
    expect(await store.count()).toBe(298)
  })
})
