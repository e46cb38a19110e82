import { randomBytes } from 'node:crypto'
import { encodeEnvelope, type L2Store, sha256Hex } from '@sync-engine/core/internal'
import { describe, expect, it } from 'vitest'
import type { L2ConformanceOptions } from './l2-conformance.ts'
import { binaryRecord, bytes, expectRecord, jsonRecord, recordOf } from './l2-records.ts'

const MIB = 1024 * 1024

/** Content comes back byte for byte: JSON as written, binary of every byte value, 16 MiB. */
export function describeByteFidelity(store: () => L2Store, options: L2ConformanceOptions): void {
  const readOne = async (id: string) => (await store().read([id])).get(id)

  describe('byte fidelity', () => {
    it('keeps unicode JSON, {} and [] byte for byte', async () => {
      const records = [
        jsonRecord('json-unicode', 1, { name: 'Zoë 🚀', ключ: '值', nested: [1, 2.5, null, true] }),
        jsonRecord('json-empty-object', 1, {}),
        jsonRecord('json-empty-array', 1, []),
      ]
      await store().write(records.map((record) => ({ record })))
      const found = await store().read(records.map((r) => r.id))
      for (const record of records) expectRecord(found.get(record.id), record)
      expect(new TextDecoder().decode(recordOf(found.get('json-empty-object')).content!)).toBe('{}')
      expect(new TextDecoder().decode(recordOf(found.get('json-empty-array')).content!)).toBe('[]')
    })

    it('keeps binary with zero bytes and 0xFF, every byte value, and empty content', async () => {
      const every = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 256)
      const records = [
        binaryRecord('bin-edges', 1, bytes(0, 0, 0xff, 0, 0xff, 0xfe, 0)),
        binaryRecord('bin-every', 1, every),
        binaryRecord('bin-empty', 1, new Uint8Array(0)),
        // Looks like an envelope's magic: content is never mistaken for a header.
        binaryRecord('bin-magic', 1, encodeEnvelope(binaryRecord('inner', 9, bytes(1)))),
      ]
      await store().write(records.map((record) => ({ record })))
      const found = await store().read(records.map((r) => r.id))
      for (const record of records) expectRecord(found.get(record.id), record)
    })

    it.skipIf((options.maxValueBytes ?? Number.POSITIVE_INFINITY) < 16 * MIB + 1024)(
      'round-trips a 16 MiB binary exactly',
      async () => {
        const big = new Uint8Array(16 * MIB)
        big.set(randomBytes(64 * 1024), 0)
        for (let at = 64 * 1024; at < big.length; at += 64 * 1024) big.copyWithin(at, 0, 64 * 1024)
        big[big.length - 1] = 0xff
        big[0] = 0
        const record = binaryRecord('bin-16mib', 1, big)
        await store().write([{ record }])
        const read = recordOf(await readOne('bin-16mib'))
        expect(read.content!.byteLength).toBe(16 * MIB)
        expect(Buffer.from(read.content!).equals(Buffer.from(big))).toBe(true)
        expect(sha256Hex(read.content!)).toBe(record.hash)
      },
    )
  })
}
