import { InvalidArgumentError, InvalidJsonError } from '../errors.ts'
import { sha256Hex } from './content-hash.ts'
import { controlCharacterIndex, validateId } from './item-id.ts'
import {
  checkPortableJson,
  isJsonDocument,
  normaliseJsonBytes,
  parseJsonBytes,
  stripJsonWhitespace,
} from './json-content.ts'

export type ContentType = 'json' | 'binary'

export const JSON_MIME = 'application/json'
export const BINARY_MIME = 'application/octet-stream'
export const DEFAULT_STATE = 'default'
export const MAX_STATE_LENGTH = 64
export const MAX_MIME_LENGTH = 255

/** Bytes an entry costs beyond its content and strings: object headers, hash, numbers. */
const FIXED_OVERHEAD_BYTES = 192

export interface ItemMetadata {
  /** Media type; defaults to application/json for JSON and application/octet-stream for binary. */
  mime?: string
  /** Caller-defined tag (for queries by state). */
  state?: string
  /** A caller-owned version; omitted, the engine assigns one from its hybrid logical clock. */
  version?: number
}

const encoder = new TextEncoder()

/**
 * One item: an id plus bytes, content-aware. JSON content is normalised once here, so every tier
 * stores and returns the same bytes, and the hash is over those bytes. Immutable.
 */
export class SyncItem {
  private constructor(
    readonly id: string,
    readonly content: Uint8Array,
    readonly contentType: ContentType,
    readonly mime: string,
    readonly hash: string,
    readonly state: string,
    /** 0 until the engine assigns one. */
    readonly version: number,
    /** Epoch ms of the write; 0 until the engine assigns it. */
    readonly updatedAt: number,
  ) {}

  /** A JSON item from a JS value (serialised once) or from JSON text. */
  static fromJson(id: string, value: unknown, meta: ItemMetadata = {}): SyncItem {
    let text: string | undefined
    try {
      text = JSON.stringify(value)
    } catch (error) {
      throw new InvalidJsonError(`value cannot be serialised as JSON: ${(error as Error).message}`)
    }
    if (text === undefined) throw new InvalidJsonError('value has no JSON form (undefined or a function)')
    const bytes = encoder.encode(text)
    checkPortableJson(bytes)
    return SyncItem.build(id, bytes, 'json', meta)
  }

  /** A JSON item from UTF-8 JSON bytes; throws `InvalidJsonError` unless they parse. */
  static fromJsonBytes(id: string, bytes: Uint8Array, meta: ItemMetadata = {}): SyncItem {
    return SyncItem.build(id, normaliseJsonBytes(ownCopy(bytes)), 'json', meta)
  }

  /** Raw bytes: a JSON object or array is detected and stored as JSON, anything else as binary. */
  static fromBytes(id: string, input: Uint8Array, meta: ItemMetadata = {}): SyncItem {
    const bytes = ownCopy(input)
    if (isJsonDocument(bytes)) {
      const stripped = stripJsonWhitespace(bytes)
      checkPortableJson(stripped)
      return SyncItem.build(id, stripped, 'json', meta)
    }
    return SyncItem.build(id, bytes, 'binary', meta)
  }

  /** Bytes kept exactly as given, never detected as JSON. */
  static fromBinary(id: string, bytes: Uint8Array, meta: ItemMetadata = {}): SyncItem {
    return SyncItem.build(id, ownCopy(bytes), 'binary', meta)
  }

  /**
   * Rebuilds an item read from a tier. The content is trusted to be in normal form already; the
   * hash is what the tier stored, so `getVerified` can compare it with the bytes.
   */
  static restore(fields: {
    id: string
    content: Uint8Array
    contentType: ContentType
    mime: string
    hash: string
    state: string
    version: number
    updatedAt: number
  }): SyncItem {
    return new SyncItem(
      fields.id,
      fields.content,
      fields.contentType,
      fields.mime,
      fields.hash,
      fields.state,
      fields.version,
      fields.updatedAt,
    )
  }

  private static build(id: string, content: Uint8Array, contentType: ContentType, meta: ItemMetadata) {
    validateId(id)
    const mime = meta.mime ?? (contentType === 'json' ? JSON_MIME : BINARY_MIME)
    validateMime(mime)
    const state = meta.state ?? DEFAULT_STATE
    validateState(state)
    const version = meta.version ?? 0
    if (meta.version !== undefined) validateVersion(version)
    return new SyncItem(id, content, contentType, mime, sha256Hex(content), state, version, 0)
  }

  /** An item is never a tombstone: with this a versioned item is itself a tier's `StoredRecord`. */
  get tombstone(): false {
    return false
  }

  /** The parsed JSON value. Throws `InvalidJsonError` for a binary item. */
  json<T = unknown>(): T {
    if (this.contentType !== 'json') throw new InvalidJsonError(`item ${JSON.stringify(this.id)} is binary`)
    return parseJsonBytes(this.content) as T
  }

  /** The content as UTF-8 text. */
  text(): string {
    return new TextDecoder().decode(this.content)
  }

  get sizeBytes(): number {
    return this.content.byteLength
  }

  /** What this item costs in memory, as L1 and the write queue account it. */
  get footprintBytes(): number {
    return (
      this.content.byteLength +
      2 * (this.id.length + this.mime.length + this.state.length) +
      FIXED_OVERHEAD_BYTES
    )
  }

  withVersion(version: number, updatedAt: number): SyncItem {
    return new SyncItem(
      this.id,
      this.content,
      this.contentType,
      this.mime,
      this.hash,
      this.state,
      version,
      updatedAt,
    )
  }

  withState(state: string): SyncItem {
    validateState(state)
    return new SyncItem(
      this.id,
      this.content,
      this.contentType,
      this.mime,
      this.hash,
      state,
      this.version,
      this.updatedAt,
    )
  }
}

/**
 * The item keeps its own copy of the caller's bytes: a caller reusing its buffer must not change
 * an item already queued (its hash would no longer match). Also drops any larger backing buffer.
 */
function ownCopy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}

export function validateVersion(version: number): void {
  if (!Number.isSafeInteger(version) || version <= 0) {
    throw new InvalidArgumentError(`version must be a positive safe integer, got ${version}`)
  }
}

export function validateState(state: string): void {
  if (typeof state !== 'string' || state.length === 0 || state.length > MAX_STATE_LENGTH) {
    throw new InvalidArgumentError(`state must be 1–${MAX_STATE_LENGTH} characters`)
  }
  if (controlCharacterIndex(state) >= 0) throw new InvalidArgumentError('state contains a control character')
}

function validateMime(mime: string): void {
  if (mime.length === 0 || mime.length > MAX_MIME_LENGTH || !/^[\x21-\x7e][\x20-\x7e]*$/.test(mime)) {
    throw new InvalidArgumentError(`mime must be 1–${MAX_MIME_LENGTH} printable ASCII characters`)
  }
}
