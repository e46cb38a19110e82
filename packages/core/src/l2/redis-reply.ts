import { BackendError } from '../errors.ts'
import type { RedisReply } from './redis-transport.ts'

const decoder = new TextDecoder()

/**
 * Readers for RESP2 replies. Drivers differ in whether a status or a bulk string comes as text or
 * bytes, so every reader accepts both; a reply of the wrong shape is a protocol error, thrown as
 * `BackendError` (never a TypeError from deep inside the store).
 */
export function replyText(reply: RedisReply, what: string): string {
  if (typeof reply === 'string') return reply
  if (reply instanceof Uint8Array) return decoder.decode(reply)
  throw unexpected(reply, what)
}

export function replyInteger(reply: RedisReply, what: string): number {
  if (typeof reply === 'number') return reply
  // Some drivers hand integers back as decimal text.
  if (typeof reply === 'string' && /^-?\d+$/.test(reply)) return Number(reply)
  throw unexpected(reply, what)
}

export function replyArray(reply: RedisReply, what: string): RedisReply[] {
  if (Array.isArray(reply)) return reply
  throw unexpected(reply, what)
}

/** An error value found in place (pipeline) is re-thrown as is: it is already a typed error. */
export function throwIfError(reply: RedisReply): void {
  if (reply instanceof Error) throw reply
}

function unexpected(reply: RedisReply, what: string): Error {
  if (reply instanceof Error) return reply
  const shape = reply === null ? 'nil' : Array.isArray(reply) ? 'an array' : typeof reply
  return new BackendError('l2', `unexpected reply to ${what}: ${shape}`)
}
