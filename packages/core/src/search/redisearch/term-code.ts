/**
 * Every string RediSearch sees of ours — tags, words, ids, sort keys — is first turned into a
 * "term code": `v` then one code per UTF-16 unit, `00`–`7f` for ASCII, `8xxxx` for any other
 * non-surrogate, `9xxxx` for a surrogate (hex digits, lower case). Why not the text itself:
 *
 * - RediSearch trims tags, lower-cases them unless CASESENSITIVE, strips backslashes before
 *   punctuation in queries and drops empty tags; a code is non-empty lower-case letters and digits,
 *   which every one of those steps leaves alone. No escaping is ever needed, in a query string, in
 *   PARAMS or inlined in an FT.AGGREGATE FILTER expression (which takes no parameters).
 * - Each unit's code is self-delimiting (its first digit gives its length), so the code of `p` is a
 *   prefix of the code of `s` exactly when `s.startsWith(p)` in JavaScript — a lone surrogate at
 *   the end of a prefix included, which UTF-8 cannot express.
 * - Codes compare (byte order, RediSearch's `strncmp` then length) as `compareCodePoints` compares
 *   the strings: ASCII < other BMP < surrogates, by value within each class, which is the order
 *   of code points for well-formed text (and the same rule for ill-formed text).
 * - The leading `v` keeps a code from ever reading as a number (RediSearch converts numeric-looking
 *   strings in some comparisons).
 *
 * ASCII costs two characters per character, other text five per UTF-16 unit.
 */
export const TERM_MARK = 'v'

const HEX = '0123456789abcdef'

export function encodeTerm(text: string): string {
  let code = TERM_MARK
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0x80) {
      code += HEX[unit >> 4]! + HEX[unit & 15]!
    } else {
      const surrogate = unit >= 0xd800 && unit <= 0xdfff
      code += (surrogate ? '9' : '8') + unit.toString(16).padStart(4, '0')
    }
  }
  return code
}

/** The string of a term code; throws `RangeError` on anything `encodeTerm` cannot have produced. */
export function decodeTerm(code: string): string {
  if (!code.startsWith(TERM_MARK)) throw notACode(code)
  const units: number[] = []
  let at = TERM_MARK.length
  while (at < code.length) {
    const lead = code[at]!
    const wide = lead === '8' || lead === '9'
    const digits = wide ? code.slice(at + 1, at + 5) : code.slice(at, at + 2)
    if (digits.length !== (wide ? 4 : 2) || !/^[0-9a-f]+$/.test(digits)) throw notACode(code)
    const unit = Number.parseInt(digits, 16)
    const surrogate = unit >= 0xd800 && unit <= 0xdfff
    if (wide ? unit < 0x80 || surrogate !== (lead === '9') : unit >= 0x80) throw notACode(code)
    units.push(unit)
    at += wide ? 5 : 2
  }
  return String.fromCharCode(...units)
}

function notACode(code: string): RangeError {
  return new RangeError(`not a term code: ${JSON.stringify(code.slice(0, 40))}`)
}
