import { InvalidArgumentError } from '@sync-engine/core/internal'

/**
 * A command argument of bytes that are not UTF-8 text. The REST body is JSON, so an argument
 * travels as a JSON string and reaches Redis as its UTF-8 bytes: only bytes that are valid UTF-8
 * survive the trip unchanged. Anything else would be silently rewritten (U+FFFD), so it is refused
 * before sending. Carrying binary needs the L2 protocol to encode it as text first (base64), which
 * is the core's decision, not this transport's.
 *
 * An `InvalidArgumentError`, not a `BackendError`: the server is healthy and retrying cannot help,
 * so it must neither open the circuit nor be retried. The message names the command and the
 * argument's position, never its bytes.
 */
export class BinaryArgumentError extends InvalidArgumentError {
  constructor(
    /** The command's name, as given (`EVAL`, `SET`…). */
    readonly command: string,
    /** The argument's position after the command name, from 1. */
    readonly argument: number,
  ) {
    super(
      `upstash: argument ${argument} of ${command} is binary (not UTF-8 text), which the JSON body ` +
        'of the Upstash REST protocol cannot carry unchanged; the caller must encode it as text first',
    )
  }
}
