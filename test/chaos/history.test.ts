import { describe, expect, it } from 'vitest'
import {
  checkFinalState,
  checkHistory,
  checkNoPhantoms,
  checkReads,
  checkVersionOrder,
  recoveryCounts,
  type Violation,
} from './support/check-history.ts'
import { History, type Observed } from './support/history.ts'

/** Hand-made histories: the checker must pass the legal ones and name the rule each bad one breaks. */

const present = (content: string, version: number): Observed => ({ present: true, content, version })
const absent = (version?: number): Observed =>
  version === undefined ? { present: false } : { present: false, version }

/** A history of sequential writes on one id, `a`: [kind, content, outcome]. */
function sequence(...steps: [kind: 'put' | 'delete', content: string, outcome: Outcome][]): History {
  const history = new History()
  for (const [kind, content, outcome] of steps) {
    const handle = history.invoke('a', kind, kind === 'put' ? content : undefined)
    history.complete(handle, outcome)
  }
  return history
}

type Outcome = Parameters<History['complete']>[1]
const acked = (version?: number, ack: 'queued' | 'logged' | 'stored' = 'stored'): Outcome =>
  version === undefined ? { kind: 'acked', ack } : { kind: 'acked', ack, version }
const unknown: Outcome = { kind: 'unknown', reason: 'connection reset' }
const failed: Outcome = { kind: 'failed', reason: 'ECONNREFUSED' }

function final(history: History, observed: Observed, options = {}): Violation[] {
  return checkHistory(history.ops, new Map([['a', observed]]), options)
}

const rules = (violations: readonly Violation[]) => violations.map((violation) => violation.rule)

describe('history checker: legal histories pass', () => {
  it('the latest acknowledged put is there at its version', () => {
    const history = sequence(['put', 'one', acked(1)], ['put', 'two', acked(2)])
    expect(final(history, present('two', 2))).toEqual([])
  })

  it('an acknowledged delete leaves the id absent (with or without a visible tombstone version)', () => {
    const history = sequence(['put', 'one', acked(1)], ['delete', '', acked(2)])
    expect(final(history, absent())).toEqual([])
    expect(final(history, absent(2))).toEqual([])
  })

  it('a write in flight after the last ack may or may not have landed', () => {
    const put = sequence(['put', 'one', acked(1)], ['put', 'two', unknown])
    expect(final(put, present('one', 1))).toEqual([])
    expect(final(put, present('two', 5))).toEqual([])
    const del = sequence(['put', 'one', acked(1)], ['delete', '', unknown])
    expect(final(del, present('one', 1))).toEqual([])
    expect(final(del, absent())).toEqual([])
  })

  it('nothing acknowledged: absent, or any write that was not refused', () => {
    const history = sequence(['put', 'one', failed], ['put', 'two', unknown])
    expect(final(history, absent())).toEqual([])
    expect(final(history, present('two', 3))).toEqual([])
  })

  it('an HTTP delete (204, no version) followed by an in-flight put that landed', () => {
    const history = sequence(['put', 'one', acked(1)], ['delete', '', acked()], ['put', 'two', unknown])
    expect(final(history, present('two', 9))).toEqual([])
    expect(final(history, absent())).toEqual([])
  })

  it('overlapping writes: the higher version wins, whatever the order they were issued in', () => {
    const history = new History()
    const first = history.invoke('a', 'put', 'first')
    const second = history.invoke('a', 'put', 'second')
    history.complete(first, acked(5))
    history.complete(second, acked(3))
    expect(final(history, present('first', 5))).toEqual([])
    expect(rules(final(history, present('second', 3)))).toEqual(['stale-write'])
  })

  it('after a process kill, queued acks may be lost when only logged and stored must survive', () => {
    const history = sequence(['put', 'one', acked(1, 'logged')], ['put', 'two', acked(2, 'queued')])
    const options = { durableAcks: ['logged', 'stored'] as const }
    expect(final(history, present('one', 1), options)).toEqual([])
    expect(final(history, present('two', 2), options)).toEqual([])
    // …but a queued ack that did survive must keep its version.
    expect(rules(final(history, present('two', 7), options))).toEqual(['version-mismatch'])
  })

  it('reads see what was acknowledged before them, and may see writes in flight', () => {
    const history = new History()
    history.complete(history.invoke('a', 'put', 'one'), acked(1))
    history.observe(history.invoke('a', 'read'), present('one', 1))
    const inFlight = history.invoke('a', 'put', 'two')
    history.observe(history.invoke('a', 'read'), present('one', 1))
    history.observe(history.invoke('a', 'read'), present('two', 2))
    history.complete(inFlight, acked(2))
    history.observe(history.invoke('never-written', 'read'), absent())
    expect(checkReads(history.ops)).toEqual([])
    expect(checkHistory(history.ops, new Map([['a', present('two', 2)]]))).toEqual([])
  })

  it('counts acknowledged ids, recovered ids and in-flight writes that appeared', () => {
    const history = new History()
    history.complete(history.invoke('a', 'put', 'a1'), acked(1))
    history.complete(history.invoke('a', 'put', 'a2'), unknown)
    history.complete(history.invoke('b', 'put', 'b1'), acked(2))
    history.complete(history.invoke('c', 'put', 'c1'), unknown)
    const states = new Map<string, Observed>([
      ['a', present('a2', 3)],
      ['b', absent()],
      ['c', absent()],
    ])
    expect(recoveryCounts(history.ops, states)).toEqual({
      acknowledged: 2,
      recovered: 1,
      inFlight: 2,
      inFlightVisible: 1,
    })
  })
})

describe('history checker: every broken invariant is named', () => {
  it('lost-write: an acknowledged put is missing', () => {
    const violations = final(sequence(['put', 'one', acked(1)]), absent())
    expect(rules(violations)).toEqual(['lost-write'])
    expect(violations[0]!.message).toContain('put #0 (acked stored v1)')
  })

  it('stale-write: an older acknowledged put is shown instead of the newer one', () => {
    const history = sequence(['put', 'one', acked(1)], ['put', 'two', acked(2)])
    expect(rules(final(history, present('one', 1)))).toEqual(['stale-write'])
  })

  it('resurrected: a put comes back after an acknowledged delete', () => {
    const history = sequence(['put', 'one', acked(1)], ['delete', '', acked(2)])
    expect(rules(final(history, present('one', 1)))).toEqual(['resurrected'])
  })

  it('resurrected: even when the delete answered without a version', () => {
    const history = sequence(['put', 'one', acked(1)], ['delete', '', acked()])
    expect(rules(final(history, present('one', 1)))).toEqual(['resurrected'])
  })

  it('refused-write-visible: a refused write shows up', () => {
    const history = sequence(['put', 'one', acked(1)], ['put', 'two', failed])
    expect(rules(final(history, present('two', 2)))).toEqual(['refused-write-visible'])
  })

  it('version-mismatch: the acknowledged content at another version', () => {
    expect(rules(final(sequence(['put', 'one', acked(1)]), present('one', 7)))).toEqual(['version-mismatch'])
  })

  it('version-mismatch: an in-flight put shown at a version not above the acknowledged one', () => {
    const history = sequence(['put', 'one', acked(4)], ['put', 'two', unknown])
    expect(rules(final(history, present('two', 4)))).toEqual(['version-mismatch'])
  })

  it('unknown-content and foreign-content: bytes nobody wrote there', () => {
    const history = new History()
    history.complete(history.invoke('a', 'put', 'a1'), acked(1))
    history.complete(history.invoke('b', 'put', 'b1'), acked(2))
    const states = (a: Observed) =>
      new Map<string, Observed>([
        ['a', a],
        ['b', present('b1', 2)],
      ])
    expect(rules(checkFinalState(history.ops, states(present('garbage', 1))))).toEqual(['unknown-content'])
    expect(rules(checkFinalState(history.ops, states(present('b1', 2))))).toEqual(['foreign-content'])
  })

  it('version-order: a later write acknowledged with a lower version', () => {
    const history = sequence(['put', 'one', acked(5)], ['put', 'two', acked(3)])
    expect(rules(checkVersionOrder(history.ops))).toEqual(['version-order'])
  })

  it('stale-write: a tombstone older than the acknowledged put', () => {
    const history = sequence(['put', 'one', acked(5)], ['delete', '', unknown])
    expect(rules(final(history, absent(3)))).toEqual(['stale-write'])
  })

  it('a read that misses an acknowledged write (read your writes)', () => {
    const history = new History()
    history.complete(history.invoke('a', 'put', 'one'), acked(1))
    history.observe(history.invoke('a', 'read'), absent())
    expect(rules(checkReads(history.ops))).toEqual(['lost-write'])
  })

  it('a read that shows an older version than one acknowledged before it', () => {
    const history = new History()
    history.complete(history.invoke('a', 'put', 'one'), acked(1))
    history.complete(history.invoke('a', 'put', 'two'), acked(2))
    history.observe(history.invoke('a', 'read'), present('one', 1))
    expect(rules(checkReads(history.ops))).toEqual(['stale-write'])
  })

  it('future-read: a read shows a write issued after it returned', () => {
    const history = new History()
    history.observe(history.invoke('a', 'read'), present('two', 9))
    history.complete(history.invoke('a', 'put', 'two'), acked(9))
    expect(rules(checkReads(history.ops))).toEqual(['future-read'])
  })

  it('with every ack level durable (no crash), a lost queued write is a lost write', () => {
    const history = sequence(['put', 'one', acked(1, 'queued')])
    expect(rules(final(history, absent()))).toEqual(['lost-write'])
  })

  it('phantom-id: an id in the store that nobody wrote', () => {
    const history = sequence(['put', 'one', acked(1)])
    expect(rules(checkNoPhantoms(history.ops, ['a', 'zombie']))).toEqual(['phantom-id'])
  })

  it('refuses to judge a written id without its final state, and a content written twice', () => {
    const history = sequence(['put', 'one', acked(1)])
    expect(() => checkFinalState(history.ops, new Map())).toThrow(/no final state/)
    expect(() => history.invoke('a', 'put', 'one')).toThrow(/written twice/)
  })
})
