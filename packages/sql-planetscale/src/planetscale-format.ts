import { format } from '@planetscale/database'

type Values = Parameters<typeof format>[1]

const DIGITS = new TextEncoder().encode('0123456789abcdef')
/** The literal is ASCII, so UTF-8 decodes it byte for byte. */
const ascii = new TextDecoder('utf-8')
const MARKER_DIGITS = 20
const INDEX_DIGITS = 6

/**
 * The client's `format`, with bytes written fast. The client turns a Uint8Array into `x'…'` one
 * byte at a time through an array of strings: measured here, 5.5 s for 16 MiB, which alone spends
 * half the call's deadline (this takes 0.2 s). Everything else stays the client's: which `?` is a
 * placeholder (quotes, comments, executable comments), how strings are escaped, numbers, bigints and null.
 *
 * Each byte parameter goes to the client as a bigint marker (digits, unquoted: exactly where the
 * hex literal belongs), then the markers are replaced. The marker's random prefix is re-drawn
 * until it occurs in no string or bigint of the call, so the formatted text holds it only where
 * a marker was put (numbers are at most 17 digits, it is 20; escaping adds no digits).
 */
export function formatQuery(query: string, values: Values): string {
  if (!Array.isArray(values) || !values.some((value) => value instanceof Uint8Array)) {
    return format(query, values)
  }
  const texts = values.filter((v) => typeof v === 'string' || typeof v === 'bigint').map(String)
  texts.push(query)
  let prefix = randomDigits()
  while (texts.some((text) => text.includes(prefix))) prefix = randomDigits()
  const literals: string[] = []
  const marked = values.map((value: unknown) => {
    if (!(value instanceof Uint8Array)) return value
    literals.push(hexLiteral(value))
    return BigInt(`${prefix}${String(literals.length - 1).padStart(INDEX_DIGITS, '0')}`)
  })
  let found = 0
  const text = format(query, marked).replace(
    new RegExp(`${prefix}(\\d{${INDEX_DIGITS}})`, 'g'),
    (_, index: string) => {
      found++
      return literals[Number(index)] ?? ''
    },
  )
  // More parameters than placeholders leaves some unused: never more markers than literals.
  if (found > literals.length) throw new Error('Cannot format query: parameter markers collided')
  return text
}

/** `x'…'`, built as ASCII bytes and decoded once. */
function hexLiteral(bytes: Uint8Array): string {
  const out = new Uint8Array(bytes.length * 2 + 3)
  out[0] = 0x78 // x
  out[1] = 0x27 // '
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!
    out[2 + 2 * i] = DIGITS[byte >> 4]!
    out[3 + 2 * i] = DIGITS[byte & 15]!
  }
  out[out.length - 1] = 0x27
  return ascii.decode(out)
}

function randomDigits(): string {
  let digits = String(1 + Math.floor(Math.random() * 9))
  while (digits.length < MARKER_DIGITS) digits += String(Math.floor(Math.random() * 10))
  return digits
}
