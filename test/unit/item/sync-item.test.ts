import { createHash } from 'node:crypto'
import {
  BINARY_MIME,
  DEFAULT_STATE,
  InvalidArgumentError,
  InvalidIdError,
  InvalidJsonError,
  JSON_MIME,
  MAX_ID_BYTES,
  SyncItem,
  validateId,
} from '@sync-engine/core'
import { describe, expect, it } from 'vitest'

const utf8 = (text: string) => new TextEncoder().encode(text)
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const nodeSha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const byteLength = (s: string) => Buffer.byteLength(s, 'utf8')

function expectInvalidId(id: string) {
  let caught: unknown
  try {
    SyncItem.fromBinary(id, utf8('x'))
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(InvalidIdError)
  expect((caught as InvalidIdError).code).toBe('INVALID_ID')
  expect((caught as InvalidIdError).status).toBe(400)
}

describe('SyncItem constructors', () => {
  it('fromJson serialises a value once and stores it as JSON', () => {
    const item = SyncItem.fromJson('user:1', { name: 'Ada', tags: ['a', 'b'], n: 1 })
    expect(item.contentType).toBe('json')
    expect(text(item.content)).toBe('{"name":"Ada","tags":["a","b"],"n":1}')
    expect(item.json()).toEqual({ name: 'Ada', tags: ['a', 'b'], n: 1 })
    expect(item.id).toBe('user:1')
    expect(item.version).toBe(0)
    expect(item.updatedAt).toBe(0)
    expect(item.state).toBe(DEFAULT_STATE)
  })

  it('fromJson rejects values without a JSON form with InvalidJsonError', () => {
    expect(() => SyncItem.fromJson('a', undefined)).toThrow(InvalidJsonError)
    expect(() => SyncItem.fromJson('a', () => 1)).toThrow(InvalidJsonError)
    expect(() => SyncItem.fromJson('a', 10n)).toThrow(InvalidJsonError)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => SyncItem.fromJson('a', cyclic)).toThrow(InvalidJsonError)
  })

  it('fromJsonBytes normalises and rejects what does not parse', () => {
    const item = SyncItem.fromJsonBytes('a', utf8(' { "x" : [ 1 , 2 ] } \n'))
    expect(item.contentType).toBe('json')
    expect(text(item.content)).toBe('{"x":[1,2]}')
    expect(() => SyncItem.fromJsonBytes('a', utf8('{"x":'))).toThrow(InvalidJsonError)
    expect(() => SyncItem.fromJsonBytes('a', new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(InvalidJsonError)
  })

  it('fromBinary keeps the bytes exactly and never detects JSON', () => {
    const bytes = utf8('{ "a": 1 }')
    const item = SyncItem.fromBinary('a', bytes)
    expect(item.contentType).toBe('binary')
    expect(item.mime).toBe(BINARY_MIME)
    expect(text(item.content)).toBe('{ "a": 1 }')
    expect(() => item.json()).toThrow(InvalidJsonError)
  })

  it('is immutable: changing the caller buffer afterwards changes neither content nor hash', () => {
    for (const make of [
      (bytes: Uint8Array) => SyncItem.fromBinary('a', bytes),
      (bytes: Uint8Array) => SyncItem.fromBytes('a', bytes),
      (bytes: Uint8Array) => SyncItem.fromJsonBytes('a', bytes),
    ]) {
      const buffer = utf8('{"a":1}')
      const item = make(buffer)
      buffer.fill(0x20)
      expect(text(item.content)).toBe('{"a":1}')
      expect(item.hash).toBe(nodeSha256(item.content))
    }
  })

  it('text() decodes the content as UTF-8', () => {
    expect(SyncItem.fromBinary('a', utf8('héllo')).text()).toBe('héllo')
  })
})

describe('JSON detection in fromBytes', () => {
  const detected = [
    ['an object', '{"a":1}'],
    ['an array', '[1,2,3]'],
    ['leading whitespace before {', ' \t\r\n{"a":1}'],
    ['leading whitespace before [', '\n\n[true]'],
    ['an empty object', '{}'],
  ] as const
  for (const [label, input] of detected) {
    it(`detects ${label} as JSON`, () => {
      const item = SyncItem.fromBytes('a', utf8(input))
      expect(item.contentType).toBe('json')
      expect(item.mime).toBe(JSON_MIME)
      expect(JSON.parse(text(item.content))).toEqual(JSON.parse(input))
    })
  }

  const binary = [
    ['a number', '123'],
    ['a string', '"hello"'],
    ['true', 'true'],
    ['null', 'null'],
    ['an object that does not parse', '{"a":'],
    ['an array with trailing garbage', '[1,2] x'],
    ['empty content', ''],
    ['only whitespace', '   \n'],
    ['text starting with a letter', 'hello {}'],
  ] as const
  for (const [label, input] of binary) {
    it(`treats ${label} as binary, bytes unchanged`, () => {
      const item = SyncItem.fromBytes('a', utf8(input))
      expect(item.contentType).toBe('binary')
      expect(item.mime).toBe(BINARY_MIME)
      expect(text(item.content)).toBe(input)
    })
  }

  it('treats invalid UTF-8 as binary even when it starts with { and is otherwise JSON-shaped', () => {
    // {"a":"<0xff>"} — JSON.parse would accept U+FFFD, but the bytes are not UTF-8.
    const bytes = new Uint8Array([...utf8('{"a":"'), 0xff, ...utf8('"}')])
    const item = SyncItem.fromBytes('a', bytes)
    expect(item.contentType).toBe('binary')
    expect([...item.content]).toEqual([...bytes])
  })

  it('treats a UTF-8 byte order mark before { as binary (first byte is not { or [)', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8('{"a":1}')])
    expect(SyncItem.fromBytes('a', bytes).contentType).toBe('binary')
  })
})

describe('JSON normal form', () => {
  const normalise = (input: string) => text(SyncItem.fromBytes('a', utf8(input)).content)

  it('removes whitespace outside strings', () => {
    expect(normalise('{\n  "a" : 1,\r\n\t"b" : [ 1 , 2 ]\n}\n')).toBe('{"a":1,"b":[1,2]}')
  })

  it('keeps whitespace inside strings', () => {
    expect(normalise('{ "k e y" : "a  b   c" }')).toBe('{"k e y":"a  b   c"}')
  })

  it('keeps escapes as written (not decoded, not re-encoded)', () => {
    expect(normalise('{ "a" : "\\u00e9 \\n \\" x" , "b" : "\\/" }')).toBe(
      '{"a":"\\u00e9 \\n \\" x","b":"\\/"}',
    )
  })

  it('knows that an escaped backslash does not escape the closing quote', () => {
    // "x\\" is a complete string; the space after it is outside and goes.
    expect(normalise('{"a":"x\\\\" , "b" : 1}')).toBe('{"a":"x\\\\","b":1}')
  })

  it('keeps big integers and number spellings byte-exact', () => {
    expect(normalise('{ "n" : 12345678901234567890, "f": 1.0, "e": 1E+2, "neg": -0 }')).toBe(
      '{"n":12345678901234567890,"f":1.0,"e":1E+2,"neg":-0}',
    )
  })

  it('keeps non-ASCII characters as their UTF-8 bytes', () => {
    expect(normalise('[ "日本", "€" ]')).toBe('["日本","€"]')
  })

  it('is the same whichever constructor ingests the same document', () => {
    const spaced = '{ "a" : [ 1, { "b" : "c d" } ] }'
    const fromBytes = SyncItem.fromBytes('a', utf8(spaced))
    const fromJsonBytes = SyncItem.fromJsonBytes('a', utf8(spaced))
    const fromJson = SyncItem.fromJson('a', JSON.parse(spaced))
    expect(text(fromBytes.content)).toBe('{"a":[1,{"b":"c d"}]}')
    expect(text(fromJsonBytes.content)).toBe(text(fromBytes.content))
    expect(text(fromJson.content)).toBe(text(fromBytes.content))
    expect(fromJson.hash).toBe(fromBytes.hash)
  })
})

describe('hash', () => {
  it('is the SHA-256 hex of the stored (normalised) bytes', () => {
    const item = SyncItem.fromBytes('a', utf8('{ "a" : 1 }'))
    expect(item.hash).toBe(nodeSha256(utf8('{"a":1}')))
    expect(item.hash).not.toBe(nodeSha256(utf8('{ "a" : 1 }')))
  })

  it('is the SHA-256 hex of binary content and of empty content', () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255])
    expect(SyncItem.fromBinary('a', bytes).hash).toBe(nodeSha256(bytes))
    expect(SyncItem.fromBinary('a', new Uint8Array(0)).hash).toBe(nodeSha256(new Uint8Array(0)))
  })

  it('differs when the content differs', () => {
    expect(SyncItem.fromJson('a', { v: 1 }).hash).not.toBe(SyncItem.fromJson('a', { v: 2 }).hash)
  })
})

describe('mime', () => {
  it('defaults to application/json for JSON and application/octet-stream for binary', () => {
    expect(SyncItem.fromJson('a', [1]).mime).toBe('application/json')
    expect(SyncItem.fromBytes('a', utf8('[1]')).mime).toBe('application/json')
    expect(SyncItem.fromBytes('a', utf8('abc')).mime).toBe('application/octet-stream')
    expect(SyncItem.fromBinary('a', utf8('[1]')).mime).toBe('application/octet-stream')
  })

  it('keeps a custom mime', () => {
    expect(SyncItem.fromBytes('a', utf8('{}'), { mime: 'application/vnd.x+json' }).mime).toBe(
      'application/vnd.x+json',
    )
    expect(SyncItem.fromBinary('a', utf8('GIF89a'), { mime: 'image/gif' }).mime).toBe('image/gif')
    expect(SyncItem.fromJson('a', {}, { mime: 'text/plain; charset=utf-8' }).mime).toBe(
      'text/plain; charset=utf-8',
    )
  })

  it('rejects an empty or non-printable mime with InvalidArgumentError', () => {
    expect(() => SyncItem.fromBinary('a', utf8('x'), { mime: '' })).toThrow(InvalidArgumentError)
    expect(() => SyncItem.fromBinary('a', utf8('x'), { mime: 'text/plain\r\nX-Evil: 1' })).toThrow(
      InvalidArgumentError,
    )
    expect(() => SyncItem.fromBinary('a', utf8('x'), { mime: 'x'.repeat(256) })).toThrow(InvalidArgumentError)
  })
})

describe('id rules', () => {
  it('rejects the empty id', () => expectInvalidId(''))

  it('accepts an id of exactly 512 UTF-8 bytes made of 3-byte characters', () => {
    const id = `${'€'.repeat(170)}ab`
    expect(byteLength(id)).toBe(MAX_ID_BYTES)
    expect(SyncItem.fromBinary(id, utf8('x')).id).toBe(id)
  })

  it('rejects an id of 513 UTF-8 bytes', () => {
    const id = '€'.repeat(171)
    expect(byteLength(id)).toBe(513)
    expectInvalidId(id)
  })

  it('counts bytes, not UTF-16 units: 128 four-byte characters are 512 bytes, 129 are too many', () => {
    const ok = '😀'.repeat(128)
    expect(byteLength(ok)).toBe(512)
    expect(SyncItem.fromBinary(ok, utf8('x')).id).toBe(ok)
    expectInvalidId('😀'.repeat(129))
  })

  it('accepts 512 ASCII bytes and rejects 513', () => {
    expect(validateId('a'.repeat(512))).toBe('a'.repeat(512))
    expectInvalidId('a'.repeat(513))
  })

  for (const [label, char] of [
    ['NUL', '\u0000'],
    ['U+001F', '\u001f'],
    ['LF', '\n'],
    ['DEL', '\u007f'],
    ['NEL (C1)', '\u0085'],
    ['U+009F (C1)', '\u009f'],
  ] as const) {
    it(`rejects a control character: ${label}`, () => expectInvalidId(`ab${char}cd`))
  }

  it('accepts characters just outside the control ranges', () => {
    expect(validateId(' ~\u00a0é')).toBe(' ~\u00a0é')
  })

  it('rejects a lone high or low surrogate', () => {
    expectInvalidId('a\ud800b')
    expectInvalidId('a\udc00')
    expectInvalidId('\ud83d')
  })

  it('rejects a non-string id with InvalidIdError', () => {
    let caught: unknown
    try {
      validateId(42)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(InvalidIdError)
  })
})

describe('version and state validation', () => {
  it('keeps a caller-supplied positive safe-integer version', () => {
    expect(SyncItem.fromJson('a', 1, { version: 42 }).version).toBe(42)
    expect(SyncItem.fromJson('a', 1, { version: Number.MAX_SAFE_INTEGER }).version).toBe(
      Number.MAX_SAFE_INTEGER,
    )
  })

  for (const version of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    it(`rejects version ${version} with InvalidArgumentError`, () => {
      let caught: unknown
      try {
        SyncItem.fromJson('a', 1, { version })
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(InvalidArgumentError)
      expect((caught as InvalidArgumentError).code).toBe('INVALID_ARGUMENT')
    })
  }

  it('keeps a custom state', () => {
    expect(SyncItem.fromJson('a', 1, { state: 'draft' }).state).toBe('draft')
    expect(SyncItem.fromJson('a', 1).withState('published').state).toBe('published')
  })

  for (const [label, state] of [
    ['empty', ''],
    ['65 characters', 's'.repeat(65)],
    ['a control character', 'a\u0000b'],
  ] as const) {
    it(`rejects a state that is ${label} with InvalidArgumentError`, () => {
      expect(() => SyncItem.fromJson('a', 1, { state })).toThrow(InvalidArgumentError)
      expect(() => SyncItem.fromJson('a', 1).withState(state)).toThrow(InvalidArgumentError)
    })
  }

  it('withVersion sets version and updatedAt and keeps everything else', () => {
    const item = SyncItem.fromJson('a', { x: 1 }, { state: 's', mime: 'application/x+json' })
    const versioned = item.withVersion(7, 1234)
    expect(versioned.version).toBe(7)
    expect(versioned.updatedAt).toBe(1234)
    expect(versioned.hash).toBe(item.hash)
    expect(versioned.state).toBe('s')
    expect(versioned.mime).toBe('application/x+json')
    expect(item.version).toBe(0)
  })
})
