import { join } from 'node:path'
import {
  BackendError,
  ConfigError,
  type L3Store,
  type StoredRecord,
  SyncItem,
  sha256Hex,
} from '@sync-engine/core/internal'
import { BetterSqlite3Transport, createSqliteStore } from '@sync-engine/sql-sqlite'
import Database from 'better-sqlite3'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../support/temp-dir.ts'

const dir = makeTempDir('sql-store')
afterAll(() => dir.remove())

let fileCounter = 0
let path = ''
let store: L3Store

beforeEach(async () => {
  path = join(dir.path, `store-${++fileCounter}.db`)
  store = createSqliteStore({ path })
  await store.init()
})
afterEach(async () => {
  await store.close()
})

const T = 1_700_000_000_000

function live(
  id: string,
  version: number,
  content: string | Uint8Array = `${id}@${version}`,
  updatedAt = T,
): StoredRecord {
  const item =
    typeof content === 'string'
      ? SyncItem.fromJson(id, { id, version, content })
      : SyncItem.fromBinary(id, content)
  return {
    id,
    version,
    updatedAt,
    hash: item.hash,
    state: item.state,
    contentType: item.contentType,
    mime: item.mime,
    content: item.content,
    tombstone: false,
  }
}

function dead(id: string, version: number, updatedAt = T): StoredRecord {
  return {
    id,
    version,
    updatedAt,
    hash: '',
    state: 'default',
    contentType: 'binary',
    mime: '',
    content: null,
    tombstone: true,
  }
}

async function readOne(id: string): Promise<StoredRecord | undefined> {
  return (await store.read([id])).get(id)
}

async function scanAll(options: { prefix?: string; pageSize?: number } = {}): Promise<string[]> {
  const out: string[] = []
  let after: string | undefined
  for (;;) {
    const page = await store.scanIds({
      limit: options.pageSize ?? 2,
      ...(after === undefined ? {} : { after }),
      ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    })
    out.push(...page)
    if (page.length < (options.pageSize ?? 2)) return out
    after = page.at(-1)
  }
}

function caught(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

/** Byte order of UTF-8, which SQLite's BINARY collation uses. */
const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))

describe('SqlStore on SQLite: writes and reads', () => {
  it('round-trips JSON and binary records exactly', async () => {
    const json = live('doc', 1)
    const bin = live('blob', 2, new Uint8Array(Array.from({ length: 256 }, (_, i) => i)))
    const empty = live('empty', 3, new Uint8Array(0))
    const result = await store.write([json, bin, empty])
    expect(result).toEqual({ applied: 3, stale: [] })
    const found = await store.read(['doc', 'blob', 'empty', 'nope'])
    expect(found.size).toBe(3)
    for (const record of [json, bin, empty]) {
      const got = found.get(record.id)!
      expect({ ...got, content: Buffer.from(got.content!).toString('hex') }).toEqual({
        ...record,
        content: Buffer.from(record.content!).toString('hex'),
      })
      expect(sha256Hex(got.content!)).toBe(record.hash)
    }
  })

  it('stores JSON as TEXT (queryable) and binary as a BLOB', async () => {
    await store.write([live('doc', 1), live('bin', 1, new Uint8Array([0, 255]))])
    const db = new Database(path, { readonly: true })
    try {
      const rows = db
        .prepare('SELECT id, typeof(payload) AS p, typeof(payload_blob) AS b FROM sync_items ORDER BY id')
        .all()
      expect(rows).toEqual([
        { id: 'bin', p: 'null', b: 'blob' },
        { id: 'doc', p: 'text', b: 'null' },
      ])
      expect(
        db.prepare(`SELECT json_extract(payload, '$.version') AS v FROM sync_items WHERE id = 'doc'`).get(),
      ).toEqual({ v: 1 })
    } finally {
      db.close()
    }
  })

  it('keeps big JSON integers and unicode ids byte-exact', async () => {
    const item = SyncItem.fromBytes('日本/€/😀', new TextEncoder().encode('{ "n": 12345678901234567890 }'))
    const record: StoredRecord = { ...live('x', 1), id: item.id, content: item.content, hash: item.hash }
    await store.write([record])
    const got = await readOne('日本/€/😀')
    expect(new TextDecoder().decode(got!.content!)).toBe('{"n":12345678901234567890}')
  })

  it('stores versions up to MAX_SAFE_INTEGER exactly', async () => {
    await store.write([live('big', Number.MAX_SAFE_INTEGER)])
    expect((await readOne('big'))?.version).toBe(Number.MAX_SAFE_INTEGER)
    expect(await store.maxVersion()).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('init is idempotent and keeps the data', async () => {
    await store.write([live('a', 1)])
    await store.init()
    expect((await readOne('a'))?.version).toBe(1)
  })

  it('reads more ids than one IN chunk holds, duplicates included', async () => {
    const records = Array.from({ length: 620 }, (_, i) => live(`id-${String(i).padStart(4, '0')}`, i + 1))
    expect((await store.write(records)).applied).toBe(620)
    const ids = [...records.map((r) => r.id), 'id-0000', 'missing']
    const found = await store.read(ids)
    expect(found.size).toBe(620)
    expect(found.get('id-0619')?.version).toBe(620)
  })

  it('writes more rows than one statement carries, atomically', async () => {
    const records = Array.from({ length: 250 }, (_, i) => live(`r${i}`, 1))
    expect(await store.write(records)).toEqual({ applied: 250, stale: [] })
    expect(await store.count()).toBe(250)
  })

  it('a batch that fails part-way commits nothing (all statements in one transaction)', async () => {
    const good = Array.from({ length: 150 }, (_, i) => live(`g${i}`, 1))
    // The second statement (rows 100…) violates the content_type CHECK.
    const bad = { ...live('bad', 1), contentType: 'neither' as 'json' }
    let caught: unknown
    try {
      await store.write([...good, bad])
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(BackendError)
    expect(await store.count()).toBe(0)
    expect(await readOne('g0')).toBeUndefined()
  })
})

describe('SqlStore on SQLite: version guard', () => {
  it('ignores an older version written after a newer one and reports it in stale', async () => {
    await store.write([live('a', 5, 'five')])
    const result = await store.write([live('a', 3, 'three')])
    expect(result).toEqual({ applied: 0, stale: ['a'], storedVersions: new Map([['a', 5]]) })
    const got = await readOne('a')
    expect(got?.version).toBe(5)
    expect(JSON.parse(new TextDecoder().decode(got!.content!)).content).toBe('five')
  })

  it('an equal version does not replace the row (first writer wins) and is not reported stale (idempotent retry)', async () => {
    await store.write([live('a', 5, 'first')])
    expect((await store.write([live('a', 5, 'second')])).stale).toEqual([])
    expect(JSON.parse(new TextDecoder().decode((await readOne('a'))!.content!)).content).toBe('first')
  })

  it('applies a newer version, and reports only the stale ids of a mixed batch', async () => {
    await store.write([live('a', 5), live('b', 5), live('c', 5)])
    const result = await store.write([live('a', 6, 'new'), live('b', 4), live('c', 7), live('d', 1)])
    expect(result.applied).toBe(3)
    expect(result.stale).toEqual(['b'])
    const found = await store.read(['a', 'b', 'c', 'd'])
    expect([...found.values()].map((r) => `${r.id}@${r.version}`).sort()).toEqual([
      'a@6',
      'b@5',
      'c@7',
      'd@1',
    ])
  })

  it('guards across statement chunks of one write', async () => {
    await store.write([live('r150', 10)])
    const records = Array.from({ length: 200 }, (_, i) => live(`r${i}`, 5))
    const result = await store.write(records)
    expect(result.stale).toEqual(['r150'])
    expect(result.applied).toBe(199)
  })
})

describe('SqlStore on SQLite: tombstones', () => {
  it('a tombstone replaces an older item and reads back as a tombstone without content', async () => {
    await store.write([live('a', 1)])
    expect((await store.write([dead('a', 2)])).applied).toBe(1)
    const got = await readOne('a')
    expect(got?.tombstone).toBe(true)
    expect(got?.content).toBeNull()
    expect(got?.version).toBe(2)
  })

  it('an older put cannot resurrect a tombstone; a newer one can', async () => {
    await store.write([dead('a', 5)])
    expect((await store.write([live('a', 4)])).stale).toEqual(['a'])
    expect((await readOne('a'))?.tombstone).toBe(true)
    expect((await store.write([live('a', 6)])).stale).toEqual([])
    expect((await readOne('a'))?.tombstone).toBe(false)
  })

  it('an older tombstone does not delete a newer item', async () => {
    await store.write([live('a', 5)])
    expect((await store.write([dead('a', 4)])).stale).toEqual(['a'])
    expect((await readOne('a'))?.tombstone).toBe(false)
  })

  it('count and scans skip tombstones; maxVersion includes them', async () => {
    await store.write([live('a', 1), live('b', 2), dead('c', 9)])
    expect(await store.count()).toBe(2)
    expect(await scanAll()).toEqual(['a', 'b'])
    expect(await store.maxVersion()).toBe(9)
  })

  it('purgeTombstones removes only tombstones written before the cutoff', async () => {
    await store.write([
      dead('old', 1, T - 1000),
      dead('edge', 2, T),
      dead('new', 3, T + 1000),
      live('item', 4, 'x', T - 5000),
    ])
    expect(await store.purgeTombstones(T)).toBe(1)
    const found = await store.read(['old', 'edge', 'new', 'item'])
    expect([...found.keys()].sort()).toEqual(['edge', 'item', 'new'])
    expect(await store.purgeTombstones(T)).toBe(0)
    expect(await store.purgeTombstones(T + 1001)).toBe(2)
    expect(await store.count()).toBe(1)
  })
})

describe('SqlStore on SQLite: scans', () => {
  it('pages with a keyset (after), in UTF-8 byte order, without gaps or repeats', async () => {
    const ids = ['b', 'a', 'B', 'é', 'ab', 'a0', 'z', 'Z9', '~', 'a b']
    await store.write(ids.map((id, i) => live(id, i + 1)))
    const expected = [...ids].sort(byUtf8)
    for (const pageSize of [1, 2, 3, 10, 50]) expect(await scanAll({ pageSize })).toEqual(expected)
  })

  it('starts strictly after the `after` id, even when that id does not exist', async () => {
    await store.write([live('a', 1), live('c', 1), live('e', 1)])
    expect(await store.scanIds({ after: 'a', limit: 10 })).toEqual(['c', 'e'])
    expect(await store.scanIds({ after: 'b', limit: 10 })).toEqual(['c', 'e'])
    expect(await store.scanIds({ after: 'e', limit: 10 })).toEqual([])
    expect(await store.scanIds({ limit: 2 })).toEqual(['a', 'c'])
  })

  it('matches GLOB metacharacters in a prefix literally', async () => {
    const ids = ['a*1', 'a*', 'ab', 'aa', 'a?x', 'axx', 'a[1', 'a[', 'a1', 'a]', 'a%', 'a_', 'abc']
    await store.write(ids.map((id) => live(id, 1)))
    expect(await scanAll({ prefix: 'a*' })).toEqual(['a*', 'a*1'])
    expect(await scanAll({ prefix: 'a?' })).toEqual(['a?x'])
    expect(await scanAll({ prefix: 'a[' })).toEqual(['a[', 'a[1'])
    expect(await scanAll({ prefix: 'a]' })).toEqual(['a]'])
    expect(await scanAll({ prefix: 'a%' })).toEqual(['a%'])
    expect(await scanAll({ prefix: 'a_' })).toEqual(['a_'])
    expect(await scanAll({ prefix: 'ab' })).toEqual(['ab', 'abc'])
  })

  it('prefix matching is case-sensitive', async () => {
    await store.write(['user:1', 'User:2', 'USER:3', 'user:4'].map((id) => live(id, 1)))
    expect(await scanAll({ prefix: 'user:' })).toEqual(['user:1', 'user:4'])
    expect(await scanAll({ prefix: 'User' })).toEqual(['User:2'])
  })

  it('combines prefix and keyset paging, and matches non-ASCII prefixes', async () => {
    const ids = ['p/1', 'p/2', 'p/3', 'p/4', 'p/5', 'q/1', 'o/9', 'é/1', 'é/2', 'ê/1']
    await store.write(ids.map((id) => live(id, 1)))
    expect(await scanAll({ prefix: 'p/', pageSize: 2 })).toEqual(['p/1', 'p/2', 'p/3', 'p/4', 'p/5'])
    expect(await store.scanIds({ prefix: 'p/', after: 'p/2', limit: 2 })).toEqual(['p/3', 'p/4'])
    expect(await scanAll({ prefix: 'é' })).toEqual(['é/1', 'é/2'])
  })

  it('an empty store scans, counts and reports maxVersion 0', async () => {
    expect(await store.scanIds({ limit: 10 })).toEqual([])
    expect(await store.count()).toBe(0)
    expect(await store.maxVersion()).toBe(0)
  })
})

describe('SqlStore on SQLite: construction and health', () => {
  it('rejects a table name that is not a plain identifier with ConfigError', () => {
    let caught: unknown
    try {
      createSqliteStore({ path: join(dir.path, 'bad-table.db'), table: 'items; DROP TABLE x' })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ConfigError)
    expect((caught as ConfigError).fields).toEqual(['sqlTable'])
  })

  it('uses a custom table name', async () => {
    const custom = createSqliteStore({ path, table: 'other_items' })
    await custom.init()
    await custom.write([live('a', 1)])
    expect(await custom.count()).toBe(1)
    expect(await store.count()).toBe(0)
    await custom.close()
  })

  it('reports its dialect and driver, pings, and closes idempotently', async () => {
    expect(store.dialect).toBe('sqlite')
    expect(store.driver).toBe('better-sqlite3')
    expect(store.capabilities.exactChangeCount).toBe(true)
    expect(store.capabilities.maxRowsPerStatement).toBeGreaterThan(0)
    await expect(store.ping()).resolves.toBeUndefined()
    await store.close()
    await store.close()
    await expect(store.ping()).rejects.toBeInstanceOf(BackendError)
  })

  it('wraps a database that cannot be opened in BackendError', () => {
    // A directory where the database file should be.
    const error = caught(() => new BetterSqlite3Transport(dir.path))
    expect(error).toBeInstanceOf(BackendError)
    expect((error as BackendError).message).toContain('cannot open SQLite database')
  })

  // BUG: BetterSqlite3Transport's constructor calls mkdirSync(dirname(path)) before its try block, so
  // an uncreatable data directory escapes as a raw Node error (ENOTDIR/EACCES), not a BackendError.
  it('wraps a data directory that cannot be created in BackendError', () => {
    // The parent "directory" is a regular file, so mkdir fails (ENOTDIR).
    const error = caught(() => new BetterSqlite3Transport(join(path, 'sub', 'x.db')))
    expect(error).toBeInstanceOf(BackendError)
  })
})
