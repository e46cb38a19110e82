import { Writable } from 'node:stream'
import { createLogger, RequestLineBatcher } from '@sync-engine/node'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'

/** A destination that keeps each write it gets (a write may hold many lines). */
function destination() {
  const writes: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      writes.push(String(chunk))
      done()
    },
  })
  return {
    writes,
    stream,
    lines: () =>
      writes
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve))
const line = (n: number, path = `/v1/items/${n}`) => ({ method: 'GET', path, status: 200, durationMs: n })

describe('request lines, batched', () => {
  it('are the lines pino writes for the same fields, all of a turn in one write', async () => {
    const pinoSide = destination()
    createLogger({ logLevel: 'info' }, pinoSide.stream).info(line(1), 'request')
    await turn()
    const side = destination()
    const batcher = RequestLineBatcher.for(createLogger({ logLevel: 'info' }, side.stream))!
    expect(batcher).toBeDefined()
    for (let n = 1; n <= 3; n++) batcher.sink(line(n, n === 1 ? '/v1/items/a"b\\c ☕' : `/v1/items/${n}`))
    expect(side.writes).toEqual([]) // nothing until the turn ends
    await turn()
    await turn()
    expect(side.writes).toHaveLength(1)
    const [first, ...rest] = side.lines()
    const { time: _t1, ...expected } = pinoSide.lines()[0]
    const { time, ...got } = first
    expect(typeof time).toBe('number')
    expect(got).toEqual({ ...expected, path: '/v1/items/a"b\\c ☕' })
    expect(Object.keys(first)).toEqual(Object.keys(pinoSide.lines()[0]))
    expect(rest.map((l) => l.durationMs)).toEqual([2, 3])
  })

  it('write out what is pending on flush, and later ones at the end of their turn', async () => {
    const side = destination()
    const batcher = RequestLineBatcher.for(createLogger({ logLevel: 'info' }, side.stream))!
    batcher.sink(line(1))
    batcher.flush()
    expect(side.lines().map((l) => l.durationMs)).toEqual([1])
    batcher.sink(line(2))
    await turn()
    await turn()
    expect(side.lines().map((l) => l.durationMs)).toEqual([1, 2])
  })

  it('are not offered for a logger that is not pino, nor for a pino logger configured by the host', () => {
    expect(RequestLineBatcher.for({ info() {}, warn() {}, error() {} })).toBeUndefined()
    // Its own line format (level labels, ISO time): only logger.info writes its lines right.
    const custom = pino(
      { formatters: { level: (label) => ({ level: label }) }, timestamp: pino.stdTimeFunctions.isoTime },
      destination().stream,
    )
    expect(RequestLineBatcher.for(custom)).toBeUndefined()
  })
})
