import type { AckLevel } from '@sync-engine/core'

/**
 * What clients did and saw, recorded as it happened, for `check-history.ts` to judge afterwards.
 * Pure bookkeeping: no I/O, no clock but a logical one. Every operation gets an `invokedAt` tick
 * when it is issued and a `completedAt` tick when its outcome is known, so the checker knows which
 * operations followed one another and which overlapped.
 */

export type OpKind = 'put' | 'delete' | 'read'

/** How a write ended, as far as its client can tell. */
export type Outcome =
  | { readonly kind: 'pending' }
  /** Acknowledged at `ack`. `version` is the receipt's (an HTTP DELETE answers 204 without one). */
  | { readonly kind: 'acked'; readonly ack: AckLevel; readonly version?: number }
  /** Refused before anything was queued (a typed refusal, connection refused): never applied. */
  | { readonly kind: 'failed'; readonly reason: string }
  /** No answer, or an error after the write may have been queued: applied now, later, or never. */
  | { readonly kind: 'unknown'; readonly reason: string }

/** A state of one id as a reader saw it. `content` is the exact bytes, as text. */
export type Observed =
  | { readonly present: true; readonly version: number; readonly content: string }
  /** `version`: the tombstone's, where the reader can see it (SQL); absent over HTTP. */
  | { readonly present: false; readonly version?: number }

export interface Op {
  /** Position in the history (issue order). */
  readonly index: number
  readonly id: string
  readonly kind: OpKind
  /** The bytes a put wrote, as text; unique per id, so a read tells which put it sees. */
  readonly content?: string
  readonly invokedAt: number
  /** Undefined while in flight. */
  readonly completedAt?: number
  readonly outcome: Outcome
  /** What a read saw (reads only, when they succeeded). */
  readonly observed?: Observed
}

export type WriteResult = Exclude<Outcome, { kind: 'pending' }>

export interface HistorySummary {
  readonly ids: number
  readonly writes: number
  readonly acked: number
  readonly failed: number
  readonly unknown: number
  readonly reads: number
  readonly failedReads: number
  /** Why the first failed read failed (reads may fail while a tier is down; they are not judged). */
  readonly firstReadFailure?: string
}

export class History {
  readonly #ops: Op[] = []
  readonly #contents = new Map<string, Set<string>>()
  readonly #marks: { readonly tick: number; readonly label: string }[] = []
  #tick = 0
  #acked = 0

  get ops(): readonly Op[] {
    return this.#ops
  }

  /** Records the issue of an operation; returns its handle. Put contents must be unique per id. */
  invoke(id: string, kind: OpKind, content?: string): number {
    if (kind === 'put') {
      if (content === undefined) throw new Error('a put needs its content')
      const seen = this.#contents.get(id) ?? new Set()
      if (seen.has(content)) throw new Error(`content written twice to ${JSON.stringify(id)}: ${content}`)
      seen.add(content)
      this.#contents.set(id, seen)
    }
    const op: Op = {
      index: this.#ops.length,
      id,
      kind,
      ...(content !== undefined && { content }),
      invokedAt: ++this.#tick,
      outcome: { kind: 'pending' },
    }
    this.#ops.push(op)
    return op.index
  }

  /** Notes a fault or phase (`mariadb stopped`…), so a violation can say when it was seen. */
  mark(label: string): void {
    this.#marks.push({ tick: ++this.#tick, label })
  }

  /** The last mark before `tick`, if any. */
  phaseAt(tick: number): string | undefined {
    let label: string | undefined
    for (const mark of this.#marks) if (mark.tick < tick) label = mark.label
    return label
  }

  /** Records how a write ended. */
  complete(handle: number, result: WriteResult): void {
    this.#settle(handle, result)
    if (result.kind === 'acked') this.#acked++
  }

  /** Records what a read saw. */
  observe(handle: number, observed: Observed): void {
    this.#settle(handle, { kind: 'acked', ack: 'stored' }, observed)
  }

  /** Records a read that got no answer (it is not judged). */
  readFailed(handle: number, reason: string): void {
    this.#settle(handle, { kind: 'failed', reason })
  }

  #settle(handle: number, outcome: WriteResult, observed?: Observed): void {
    const op = this.#ops[handle]
    if (op === undefined) throw new Error(`no operation #${handle}`)
    if (op.completedAt !== undefined) throw new Error(`operation #${handle} completed twice`)
    this.#ops[handle] = { ...op, completedAt: ++this.#tick, outcome, ...(observed && { observed }) }
  }

  /** Ids any write touched. */
  writtenIds(): string[] {
    const ids = new Set<string>()
    for (const op of this.#ops) if (op.kind !== 'read') ids.add(op.id)
    return [...ids]
  }

  /** Writes acknowledged so far. */
  get ackedWrites(): number {
    return this.#acked
  }

  summary(): HistorySummary {
    const count = { writes: 0, acked: 0, failed: 0, unknown: 0, reads: 0, failedReads: 0 }
    let firstReadFailure: string | undefined
    for (const op of this.#ops) {
      if (op.kind === 'read') {
        count.reads++
        if (op.outcome.kind === 'failed') {
          count.failedReads++
          firstReadFailure ??= op.outcome.reason
        }
        continue
      }
      count.writes++
      if (op.outcome.kind === 'acked') count.acked++
      else if (op.outcome.kind === 'failed') count.failed++
      else if (op.outcome.kind === 'unknown') count.unknown++
    }
    return {
      ids: this.writtenIds().length,
      ...count,
      ...(firstReadFailure !== undefined && { firstReadFailure }),
    }
  }
}
