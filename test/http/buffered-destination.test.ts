import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bufferedDestination } from '@sync-engine/node'
import { pino } from 'pino'
import { afterAll, describe, expect, it, vi } from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'sync-buffered-log-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Waits (without asserting any duration) until `read()` holds `text`, for at most ~5 s. */
async function eventually(read: () => string, text: string): Promise<string> {
  for (let i = 0; i < 500 && !read().includes(text); i++) await new Promise((r) => setTimeout(r, 10))
  return read()
}

describe('the buffered log destination (stdout and stderr)', () => {
  it('holds a quiet server line back only until its periodic flush, not until 4 KiB are buffered', async () => {
    const path = join(dir, 'quiet.log')
    const fd = openSync(path, 'w')
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    try {
      const logger = pino({ level: 'info' }, bufferedDestination(fd))
      logger.info({ n: 1 }, 'one quiet line')
      await new Promise((r) => setImmediate(r))
      expect(readFileSync(path, 'utf8')).toBe('') // buffered: far below 4 KiB
      vi.advanceTimersByTime(250)
    } finally {
      vi.useRealTimers()
    }
    expect(await eventually(() => readFileSync(path, 'utf8'), 'one quiet line')).toContain('"n":1')
    closeSync(fd)
  })
})
