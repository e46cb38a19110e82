import type { AckLevel } from '@sync-engine/core'
import type { Observed, Op } from './history.ts'

/**
 * The chaos invariant, judged from a `History` and the states read back:
 * every acknowledged write is present at its version (or superseded by a later write that may
 * have landed), nothing deleted comes back, nothing is duplicated, versions only go up.
 *
 * Each id is a register. A write W is *superseded* when a write that must have taken effect came
 * after it: one acknowledged after W completed was issued (real time), or one acknowledged with
 * a higher version. The state of an id must be one of its writes that is not superseded and not
 * refused — or "absent" while nothing is known to have taken effect. Puts write unique contents,
 * so a state names the put it came from. Pure: no I/O.
 */

export interface Violation {
  readonly id: string
  readonly rule:
    | 'lost-write'
    | 'resurrected'
    | 'stale-write'
    | 'refused-write-visible'
    | 'unknown-content'
    | 'foreign-content'
    | 'version-mismatch'
    | 'version-order'
    | 'future-read'
    | 'phantom-id'
  readonly message: string
  /** For a read: the tick it was issued at (see `History.phaseAt`). */
  readonly tick?: number
}

export interface CheckOptions {
  /**
   * Ack levels whose writes must have survived what the scenario did to the engine. After a
   * process kill, `queued` writes may be lost, so they count as outcome unknown.
   * Default: all levels.
   */
  readonly durableAcks?: readonly AckLevel[]
}

type Write = Op & { readonly kind: 'put' | 'delete' }

const ALL_ACKS: readonly AckLevel[] = ['queued', 'logged', 'stored']

/** Everything: version order, the final states, and every read. */
export function checkHistory(
  ops: readonly Op[],
  final: ReadonlyMap<string, Observed>,
  options: CheckOptions = {},
): Violation[] {
  return [...checkVersionOrder(ops), ...checkFinalState(ops, final, options), ...checkReads(ops)]
}

/** Final states: one per written id (a missing one is a usage error, not a violation). */
export function checkFinalState(
  ops: readonly Op[],
  final: ReadonlyMap<string, Observed>,
  options: CheckOptions = {},
): Violation[] {
  const durable = new Set(options.durableAcks ?? ALL_ACKS)
  const violations: Violation[] = []
  for (const [id, index] of indexById(ops)) {
    const observed = final.get(id)
    if (observed === undefined) throw new Error(`no final state for ${JSON.stringify(id)}`)
    const held = summarise(
      index.writes.filter((write) => write.outcome.kind === 'acked' && durable.has(write.outcome.ack)),
    )
    const verdict = judge(id, index, observed, held, () => true, ops)
    if (verdict) violations.push(verdict)
  }
  return violations
}

/**
 * Reads taken during the load. A read must see every write acknowledged before it was issued
 * (read your writes, whatever the ack level: the same engine answers), may see writes that were
 * in flight, and must not see a write issued after it returned.
 */
export function checkReads(ops: readonly Op[]): Violation[] {
  const indexes = indexById(ops)
  const violations: Violation[] = []
  for (const read of ops) {
    if (read.kind !== 'read' || read.observed === undefined || read.completedAt === undefined) continue
    const readCompleted = read.completedAt
    const index = indexes.get(read.id) ?? emptyIndex()
    const verdict = judge(
      read.id,
      index,
      read.observed,
      index.heldBefore(read.invokedAt),
      (write) => write.invokedAt < readCompleted,
      ops,
    )
    if (verdict) {
      violations.push({
        ...verdict,
        message: `read #${read.index}: ${verdict.message}`,
        tick: read.invokedAt,
      })
    }
  }
  return violations
}

/** Versions increase per id: a write acknowledged after another completed has a higher version. */
export function checkVersionOrder(ops: readonly Op[]): Violation[] {
  const violations: Violation[] = []
  for (const [id, idWrites] of writesById(ops)) {
    const versioned = idWrites.filter(
      (write) => versionOf(write) !== undefined && write.completedAt !== undefined,
    )
    // Sweep in issue order, folding in every write that completed before the current one was issued.
    const byCompletion = [...versioned].sort((a, b) => a.completedAt! - b.completedAt!)
    const byIssue = [...versioned].sort((a, b) => a.invokedAt - b.invokedAt)
    let highest: Write | undefined
    let folded = 0
    for (const later of byIssue) {
      while (folded < byCompletion.length && byCompletion[folded]!.completedAt! < later.invokedAt) {
        const earlier = byCompletion[folded++]!
        if (!highest || versionOf(earlier)! > versionOf(highest)!) highest = earlier
      }
      if (highest && versionOf(highest)! >= versionOf(later)!) {
        violations.push({
          id,
          rule: 'version-order',
          message: `${describeOp(later)} was acknowledged with version ${versionOf(later)}, not above ${describeOp(highest)} (version ${versionOf(highest)}) that completed before it was issued`,
        })
      }
    }
  }
  return violations
}

/** Ids a listing of the store shows that no write of the history touched. */
export function checkNoPhantoms(ops: readonly Op[], listedIds: Iterable<string>): Violation[] {
  const written = writesById(ops)
  const violations: Violation[] = []
  for (const id of listedIds) {
    if (!written.has(id)) {
      violations.push({ id, rule: 'phantom-id', message: 'present in the store, but no client wrote it' })
    }
  }
  return violations
}

export interface RecoveryCounts {
  /** Ids whose state is pinned by at least one acknowledged (durable) write. */
  readonly acknowledged: number
  /** Of those, the ids whose final state satisfies the invariant. */
  readonly recovered: number
  /** Writes whose outcome the client never learned (in flight at a crash, timed out…). */
  readonly inFlight: number
  /** In-flight puts whose content is visible in the final state (e.g. replayed from the log). */
  readonly inFlightVisible: number
}

export function recoveryCounts(
  ops: readonly Op[],
  final: ReadonlyMap<string, Observed>,
  options: CheckOptions = {},
): RecoveryCounts {
  const durable = new Set(options.durableAcks ?? ALL_ACKS)
  const failing = new Set(checkFinalState(ops, final, options).map((violation) => violation.id))
  let acknowledged = 0
  let recovered = 0
  let inFlight = 0
  let inFlightVisible = 0
  for (const [id, idWrites] of writesById(ops)) {
    if (idWrites.some((write) => write.outcome.kind === 'acked' && durable.has(write.outcome.ack))) {
      acknowledged++
      if (!failing.has(id)) recovered++
    }
    const observed = final.get(id)
    for (const write of idWrites) {
      if (write.outcome.kind !== 'unknown') continue
      inFlight++
      if (write.kind === 'put' && observed?.present && observed.content === write.content) inFlightVisible++
    }
  }
  return { acknowledged, recovered, inFlight, inFlightVisible }
}

/** The writes that certainly took effect before an observation, summarised for O(1) checks. */
interface Held {
  readonly count: number
  /** The latest issue tick among them. */
  readonly latestIssue: number
  /** Their highest known version (0 when none is known). */
  readonly floor: number
  /** The one issued last: what the state should show, absent a later in-flight write. */
  readonly newest: Write | undefined
  /** The one at `floor`. */
  readonly top: Write | undefined
  /** All of them, for messages (built only when a violation is reported). */
  readonly list: () => readonly Write[]
}

function summarise(writes: readonly Write[]): Held {
  let held: Held = { count: 0, latestIssue: 0, floor: 0, newest: undefined, top: undefined, list: () => [] }
  for (const write of writes) held = including(held, write, () => writes)
  return held
}

function including(held: Held, write: Write, list: () => readonly Write[]): Held {
  const version = versionOf(write)
  const higher = version !== undefined && version > held.floor
  return {
    count: held.count + 1,
    latestIssue: Math.max(held.latestIssue, write.invokedAt),
    floor: higher ? version : held.floor,
    newest: held.newest && held.newest.invokedAt > write.invokedAt ? held.newest : write,
    top: higher ? write : held.top,
    list,
  }
}

/** One id's writes, indexed for judging many reads of it. */
interface IdIndex {
  readonly writes: readonly Write[]
  readonly deletes: readonly Write[]
  readonly putByContent: ReadonlyMap<string, Write>
  /** The acknowledged writes that completed before `tick`. */
  heldBefore(tick: number): Held
}

function indexById(ops: readonly Op[]): Map<string, IdIndex> {
  const indexes = new Map<string, IdIndex>()
  for (const [id, writes] of writesById(ops)) indexes.set(id, indexOf(writes))
  return indexes
}

function emptyIndex(): IdIndex {
  return indexOf([])
}

function indexOf(writes: readonly Write[]): IdIndex {
  const putByContent = new Map<string, Write>()
  for (const write of writes) if (write.kind === 'put') putByContent.set(write.content!, write)
  const acked = writes
    .filter((write) => write.outcome.kind === 'acked' && write.completedAt !== undefined)
    .sort((a, b) => a.completedAt! - b.completedAt!)
  // prefix[k]: the first k acknowledged writes by completion.
  const prefix: Held[] = [summarise([])]
  acked.forEach((write, k) => {
    prefix.push(including(prefix[k]!, write, () => acked.slice(0, k + 1)))
  })
  return {
    writes,
    deletes: writes.filter((write) => write.kind === 'delete'),
    putByContent,
    heldBefore(tick) {
      let low = 0
      let high = acked.length
      while (low < high) {
        const mid = (low + high) >> 1
        if (acked[mid]!.completedAt! < tick) low = mid + 1
        else high = mid
      }
      return prefix[low]!
    },
  }
}

/**
 * The verdict on one observed state of `id`: undefined if it is allowed. `held` are the writes
 * that certainly took effect before the observation, `possible` says which could have.
 */
function judge(
  id: string,
  index: IdIndex,
  observed: Observed,
  held: Held,
  possible: (write: Write) => boolean,
  allOps: readonly Op[],
): Violation | undefined {
  const { latestIssue, floor } = held
  /** The held write that makes `write` obsolete, if any. */
  const supersededBy = (write: Write): Write | undefined => {
    const done = write.completedAt ?? Number.POSITIVE_INFINITY
    const version = versionOf(write)
    if (latestIssue <= done && (version === undefined || floor <= version)) return undefined
    // The newest such write: the one a reader should have seen instead.
    return held
      .list()
      .findLast(
        (other) =>
          other.invokedAt > done ||
          (version !== undefined && versionOf(other) !== undefined && versionOf(other)! > version),
      )
  }

  if (!observed.present) {
    const deleted = index.deletes.some(
      (write) => write.outcome.kind !== 'failed' && possible(write) && !supersededBy(write),
    )
    if (held.count > 0 && !deleted) {
      const lost =
        held.list().findLast((write) => write.kind === 'put' && !supersededBy(write)) ?? held.newest!
      return {
        id,
        rule: 'lost-write',
        message: `absent, but ${describeOp(lost)} was acknowledged and no later delete was attempted`,
      }
    }
    const top = held.top
    if (observed.version !== undefined && top !== undefined) {
      if (observed.version < floor || (observed.version === floor && top.kind === 'put')) {
        return {
          id,
          rule: 'stale-write',
          message: `tombstone at version ${observed.version}, but ${describeOp(top)} was acknowledged at version ${floor}`,
        }
      }
    }
    return undefined
  }

  const source = index.putByContent.get(observed.content)
  if (source === undefined) {
    const elsewhere = allOps.find((op) => op.kind === 'put' && op.content === observed.content)
    return elsewhere
      ? {
          id,
          rule: 'foreign-content',
          message: `shows the content of ${describeOp(elsewhere)} on ${JSON.stringify(elsewhere.id)} (version ${observed.version})`,
        }
      : {
          id,
          rule: 'unknown-content',
          message: `shows content no client wrote to it (version ${observed.version}): ${preview(observed.content)}`,
        }
  }
  if (source.outcome.kind === 'failed') {
    return {
      id,
      rule: 'refused-write-visible',
      message: `shows ${describeOp(source)}, which was refused (${source.outcome.reason})`,
    }
  }
  if (!possible(source)) {
    return { id, rule: 'future-read', message: `shows ${describeOp(source)}, issued after the read returned` }
  }
  const by = supersededBy(source)
  if (by !== undefined) {
    return {
      id,
      rule: by.kind === 'delete' ? 'resurrected' : 'stale-write',
      message:
        by.kind === 'delete'
          ? `shows ${describeOp(source)} (version ${observed.version}) although ${describeOp(by)} deleted it afterwards`
          : `shows ${describeOp(source)} (version ${observed.version}) instead of ${describeOp(held.newest ?? by)}`,
    }
  }
  const version = versionOf(source)
  if (version !== undefined && observed.version !== version) {
    return {
      id,
      rule: 'version-mismatch',
      message: `shows ${describeOp(source)} at version ${observed.version}, acknowledged at ${version}`,
    }
  }
  if (version === undefined && observed.version <= floor) {
    return {
      id,
      rule: 'version-mismatch',
      message: `shows ${describeOp(source)} at version ${observed.version}, not above the acknowledged ${floor}`,
    }
  }
  return undefined
}

function writesById(ops: readonly Op[]): Map<string, Write[]> {
  const byId = new Map<string, Write[]>()
  for (const op of ops) {
    if (op.kind === 'read') continue
    const list = byId.get(op.id)
    if (list) list.push(op as Write)
    else byId.set(op.id, [op as Write])
  }
  return byId
}

function versionOf(write: Op): number | undefined {
  return write.outcome.kind === 'acked' ? write.outcome.version : undefined
}

function describeOp(op: Op): string {
  const outcome = op.outcome
  const how =
    outcome.kind === 'acked'
      ? `acked ${outcome.ack}${outcome.version === undefined ? '' : ` v${outcome.version}`}`
      : outcome.kind
  return `${op.kind} #${op.index} (${how})`
}

function preview(text: string): string {
  return text.length > 60 ? `${JSON.stringify(text.slice(0, 60))}…` : JSON.stringify(text)
}
