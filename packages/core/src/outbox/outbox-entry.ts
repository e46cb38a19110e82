import { BackendError, InvalidArgumentError } from '../errors.ts'
import { CorruptValue } from '../l2/corrupt-value.ts'
import { decodeEnvelope } from '../l2/envelope.ts'
import { replyArray, replyText } from '../l2/redis-reply.ts'
import type { RedisReply } from '../l2/redis-transport.ts'
import type { PendingWrite, WalEntry } from '../log/write-ahead-log.ts'
import { memoryWalEntryBytes } from '../memory/memory-write-ahead-log.ts'
import type { Route } from '../options/submit-options.ts'
import { itemOf, recordOf } from '../tiers/records.ts'

/**
 * A write as an outbox entry: its L2 envelope (the same bytes the item key holds, expiry and hash
 * included) plus what only the log needs — the route and whether the caller chose the version.
 */
export interface OutboxEntryFields {
  readonly id: string
  readonly version: number
  readonly updatedAt: number
  readonly record: ReturnType<typeof recordOf>
  readonly route: string
  readonly callerVersioned: '1' | '0'
  /** What the entry counts for against the log's bound: the rule every log uses. */
  readonly bytes: number
}

/** Checks a write the log is asked to hold and gives its fields (nothing is sent for a bad one). */
export function outboxFieldsOf(write: PendingWrite): OutboxEntryFields {
  if (write.condition !== undefined) {
    throw new InvalidArgumentError(`a conditional write of ${JSON.stringify(write.id)} is never logged`)
  }
  if (write.item !== null && write.item.id !== write.id) {
    throw new InvalidArgumentError(
      `the write of ${JSON.stringify(write.id)} carries an item of id ${JSON.stringify(write.item.id)}`,
    )
  }
  return {
    id: write.id,
    version: write.version,
    updatedAt: write.updatedAt,
    record: recordOf(write),
    route: routeText(write.route),
    callerVersioned: write.callerVersioned ? '1' : '0',
    bytes: memoryWalEntryBytes(write),
  }
}

/** `l2 l3 [ttl]` as one short text, e.g. `11` or `1130000`. */
function routeText(route: Route): string {
  return `${route.l2 ? 1 : 0}${route.l3 ? 1 : 0}${route.ttlMs ?? ''}`
}

function routeOf(text: string): Route {
  const ttl = text.slice(2)
  return { l2: text[0] === '1', l3: text[1] === '1', ttlMs: ttl === '' ? undefined : Number(ttl) }
}

/** `bytes version updatedAt route callerVersioned id` (see outbox-scripts.ts). */
const META = /^(\d+) (\d+) (\d+) (\S+) ([01]) ([\s\S]*)$/

/** The `seq` of a stream entry id `0-<seq>`. */
export function seqOfEntryId(entryId: string): number {
  const seq = Number(entryId.slice(2))
  if (!entryId.startsWith('0-') || !Number.isSafeInteger(seq)) {
    throw new BackendError('l2', `outbox entry id ${JSON.stringify(entryId)} is not 0-<seq>`)
  }
  return seq
}

/**
 * An entry as XRANGE gives it: `[entryId, ['m', metadata, 'e', envelope]]`.
 * An entry that does not decode is damage to the log (never served as a write): a BackendError.
 */
export function walEntryOf(reply: RedisReply): WalEntry {
  const [entryId, fieldReply] = replyArray(reply, 'XRANGE')
  const fields = replyArray(fieldReply ?? null, 'XRANGE')
  const seq = seqOfEntryId(replyText(entryId ?? null, 'XRANGE'))
  const meta = replyText(fields[1] ?? null, 'XRANGE')
  const parts = META.exec(meta)
  const envelope = fields[3]
  const bytes = typeof envelope === 'string' ? new TextEncoder().encode(envelope) : envelope
  if (parts === null || !(bytes instanceof Uint8Array)) {
    throw new BackendError('l2', `outbox entry ${seq} is damaged: not a metadata text and an envelope`)
  }
  const [, , versionText, updatedText, routeText, flag, id] = parts as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  const version = Number(versionText)
  const updatedAt = Number(updatedText)
  const record = decodeEnvelope(id, bytes)
  if (record instanceof CorruptValue || !Number.isSafeInteger(version) || !Number.isSafeInteger(updatedAt)) {
    const why = record instanceof CorruptValue ? record.reason : 'its version or updatedAt is not an integer'
    throw new BackendError('l2', `outbox entry ${seq} of ${JSON.stringify(id)} is damaged: ${why}`)
  }
  const write: PendingWrite = {
    id,
    version,
    updatedAt,
    item: record.tombstone ? null : itemOf(record),
    route: routeOf(routeText),
    expiresAt: record.expiresAt ?? 0,
    callerVersioned: flag === '1',
  }
  return { seq, write }
}
