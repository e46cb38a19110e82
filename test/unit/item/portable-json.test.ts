import { InvalidJsonError, SyncItem } from '@sync-engine/core'
import { describe, expect, it } from 'vitest'

const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`

describe('JSON every L3 can store', () => {
  it('takes 31 levels of nesting (MariaDB’s JSON_VALID refuses 32) and refuses 32, from bytes, from text and from a value', () => {
    const bytes = (text: string) => new TextEncoder().encode(text)
    expect(SyncItem.fromJsonBytes('a', bytes(nested(31))).contentType).toBe('json')
    expect(() => SyncItem.fromJsonBytes('a', bytes(nested(32)))).toThrow(InvalidJsonError)
    expect(() => SyncItem.fromBytes('a', bytes(`{"x":${nested(31)}}`))).toThrow(/deeper than 31/)
    expect(() => SyncItem.fromJson('a', JSON.parse(nested(32)))).toThrow(InvalidJsonError)
    // Brackets inside strings are text, not nesting.
    expect(SyncItem.fromJson('a', { s: '['.repeat(100) }).contentType).toBe('json')
  })

  it('refuses an escaped lone surrogate and takes a pair, or a backslash before a u', () => {
    const bytes = (text: string) => new TextEncoder().encode(text)
    expect(() => SyncItem.fromJsonBytes('a', bytes('{"s":"\\ud800"}'))).toThrow(/lone surrogate/)
    expect(() => SyncItem.fromJsonBytes('a', bytes('["x\\udc00"]'))).toThrow(/lone surrogate/)
    expect(() => SyncItem.fromJson('a', { ['\ud800']: 1 })).toThrow(/lone surrogate/)
    expect(SyncItem.fromJsonBytes('a', bytes('{"s":"\\ud83d\\ude00"}')).text()).toBe('{"s":"\\ud83d\\ude00"}')
    expect(SyncItem.fromJsonBytes('a', bytes('{"s":"\\\\ud800"}')).contentType).toBe('json')
  })
})
