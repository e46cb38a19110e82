import { InvalidArgumentError, parseBase64 } from '@sync-engine/core'

/** The bytes of a base64 field of a request; `InvalidArgumentError` naming it unless canonical padded base64. */
export function decodeBase64(text: string, field = 'base64'): Uint8Array {
  const bytes = parseBase64(text)
  if (bytes === undefined) throw new InvalidArgumentError(`${field} is not valid padded base64`)
  return bytes
}
