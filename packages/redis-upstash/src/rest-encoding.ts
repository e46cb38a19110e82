import {
  BackendError,
  parseBase64,
  type RedisArgument,
  type RedisReply,
  RedisReplyError,
} from '@sync-engine/core/internal'
import { BinaryArgumentError } from './binary-argument-error.ts'

/** `fatal`: invalid UTF-8 throws instead of becoming U+FFFD; `ignoreBOM`: a leading BOM is kept. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const encoder = new TextEncoder()
const OK_BYTES = encoder.encode('OK')

/** What the REST body carries for one argument: JSON strings and numbers. */
export type RestArgument = string | number

/**
 * A command as the JSON array the REST API takes. Strings and numbers pass as they are (a number
 * arrives as a JSON number, which Upstash formats as Redis would); bytes pass only when they are
 * UTF-8 text, which the server turns back into the same bytes. Other bytes are refused
 * (`BinaryArgumentError`) rather than silently changed.
 */
export function toRestCommand(command: readonly [string, ...RedisArgument[]]): RestArgument[] {
  const [name, ...args] = command
  return [
    name,
    ...args.map((argument, index) => {
      if (typeof argument === 'string' || typeof argument === 'number') return argument
      try {
        return strictUtf8.decode(argument)
      } catch {
        throw new BinaryArgumentError(name, index + 1)
      }
    }),
  ]
}

/** One entry of a `/pipeline` or `/multi-exec` answer (and the body of `POST /`). */
export interface RestEntry {
  readonly result?: unknown
  readonly error?: string
}

/**
 * An entry as a RESP2 reply. Requests ask for `Upstash-Encoding: base64`, so every string of a
 * result (nested ones too) is base64 of the raw bytes — the one way binary values survive a JSON
 * body — except the literal status `OK`, which base64 (always a multiple of 4 long) cannot be.
 * Strings therefore all become bytes, `OK` included: the core's readers take a status either way.
 * An error stays in place as a `RedisReplyError`, as the transport contract wants of pipelines.
 */
export function fromRestEntry(entry: RestEntry): RedisReply {
  if (typeof entry.error === 'string') return new RedisReplyError(entry.error)
  return fromRestResult(entry.result)
}

function fromRestResult(value: unknown): RedisReply {
  if (value === null || value === undefined) return null
  if (typeof value === 'number') return value
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'string') {
    if (value === 'OK') return OK_BYTES.slice()
    // A server that ignored the header answers plain text: its UTF-8 bytes are the best reading.
    return parseBase64(value) ?? encoder.encode(value)
  }
  if (Array.isArray(value)) return value.map(fromRestResult)
  // A map (RESP3) has no RESP2 shape: an error in place, which the core's readers re-throw.
  return new BackendError('l2', `upstash: a reply held ${typeof value}, which RESP2 has no shape for`)
}
