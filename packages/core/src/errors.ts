/**
 * The error taxonomy. Every failure a caller can act on is one of these classes, with a stable
 * `code` (for programs) and an HTTP status (for the API layer). Backend errors are wrapped, never
 * swallowed, and their messages never carry credentials (transports redact before wrapping).
 */
export abstract class SyncError extends Error {
  abstract readonly code: string
  /** The HTTP status the API answers with. */
  abstract readonly status: number
  /** Whether retrying the same call later may succeed. */
  readonly retryable: boolean = false

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

export class InvalidIdError extends SyncError {
  readonly code = 'INVALID_ID'
  readonly status = 400
}

export class PayloadTooLargeError extends SyncError {
  readonly code = 'PAYLOAD_TOO_LARGE'
  readonly status = 413
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(`payload of ${sizeBytes} bytes exceeds the limit of ${limitBytes} bytes`)
  }
}

export class InvalidJsonError extends SyncError {
  readonly code = 'INVALID_JSON'
  readonly status = 400
}

/** Options or arguments that do not make sense (bad ttl, unknown ack level, bad version…). */
export class InvalidArgumentError extends SyncError {
  readonly code = 'INVALID_ARGUMENT'
  readonly status = 400
}

/** A write routed only to tiers this deployment does not have (e.g. `cache()` without Redis). */
export class NoTierError extends SyncError {
  readonly code = 'NO_TIER'
  readonly status = 422
}

export class ConfigError extends SyncError {
  readonly code = 'CONFIG_INVALID'
  readonly status = 500
  constructor(
    message: string,
    /** The config fields at fault, by schema name. */
    readonly fields: readonly string[],
  ) {
    super(message)
  }
}

export class EngineStateError extends SyncError {
  readonly code = 'ENGINE_STATE'
  readonly status = 503
  override readonly retryable = true
  constructor(
    readonly state: string,
    operation: string,
  ) {
    super(`engine is ${state}: cannot ${operation}`)
  }
}

/** Where a backend failure happened: L2 (Redis), L3 (SQL), the write-ahead log, or unknown. */
export type FailedPart = 'l2' | 'l3' | 'wal' | 'unknown'

/**
 * A backend (SQL, Redis, the log) failed. The message is safe to show; the cause is kept for logs.
 * An error of unknown origin is one of these too (tier `unknown`): never blamed on the caller.
 */
export class BackendError extends SyncError {
  readonly code: string = 'BACKEND_ERROR'
  readonly status: number = 503
  override readonly retryable: boolean = true
  constructor(
    readonly tier: FailedPart,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${tier}: ${message}`, options)
  }
}

/**
 * The backend refused us for a reason retrying cannot fix: a wrong password, an unknown database,
 * a missing privilege. A start fails with it at once (an unreachable server degrades instead).
 */
export class BackendConfigError extends BackendError {
  override readonly code = 'BACKEND_CONFIG'
  override readonly status = 500
  override readonly retryable = false
}

/**
 * A write older than the version its tier holds: nothing was written. Carries the version that
 * stays (`currentVersion`, 0 when unknown).
 */
export class StaleVersionError extends SyncError {
  readonly code = 'STALE_VERSION'
  readonly status = 409
  constructor(
    readonly id: string,
    readonly version: number,
    readonly currentVersion: number,
  ) {
    super(
      `write of ${JSON.stringify(id)} at version ${version} was superseded: version ${currentVersion || 'newer'} is stored`,
    )
  }
}

/**
 * A conditional write whose condition did not hold when it was applied: nothing was written.
 * `expectedVersion` 0 means "only if absent"; `currentVersion` 0 means the item does not exist.
 */
export class PreconditionFailedError extends SyncError {
  readonly code = 'PRECONDITION_FAILED'
  readonly status = 412
  constructor(
    readonly id: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(
      expectedVersion === 0
        ? `${JSON.stringify(id)} already exists (version ${currentVersion}): create-only write refused`
        : `${JSON.stringify(id)} is at version ${currentVersion || 'none (absent)'}, not ${expectedVersion}: conditional write refused`,
    )
  }
}

/**
 * The write-ahead log holds writes for another L3 than the one configured (another dialect, host,
 * database or table): replaying them here would store acknowledged writes in the wrong database.
 */
export class LogTargetMismatchError extends SyncError {
  readonly code = 'LOG_TARGET_MISMATCH'
  readonly status = 500
  constructor(
    readonly logTarget: string,
    readonly configuredTarget: string,
    readonly entries: number,
  ) {
    super(
      `the write-ahead log holds ${entries} writes for ${logTarget}, but L3 is ${configuredTarget}: ` +
        'start with the L3 they were written for (its writes then drain there), or move the log aside',
    )
  }
}

/** A flush could not write some items; they stay queued and are retried. */
export class FlushError extends SyncError {
  readonly code = 'FLUSH_FAILED'
  readonly status = 503
  override readonly retryable = true
}

/** The engine is over its memory or log budget: writes are refused until it catches up. Reads keep working. */
export class BackpressureError extends SyncError {
  readonly code = 'BACKPRESSURE'
  readonly status = 503
  override readonly retryable = true
  constructor(
    /** The backpressure level that refused the write. */
    readonly level: string,
    message: string,
    /** When a retry is worth trying, in ms. */
    readonly retryAfterMs: number,
  ) {
    super(message)
  }
}

/** The write-ahead log is at its byte bound: nothing of the append was logged. */
export class WalFullError extends SyncError {
  readonly code = 'WAL_FULL'
  readonly status = 503
  override readonly retryable = true
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`the write-ahead log holds ${bytes} of ${maxBytes} bytes: append refused`)
  }
}

export class CorruptionError extends SyncError {
  readonly code = 'CORRUPTION'
  readonly status = 500
  constructor(
    readonly id: string,
    readonly expectedHash: string,
    readonly actualHash: string,
  ) {
    super(`content of ${JSON.stringify(id)} does not match its hash`)
  }
}

export class NotFoundError extends SyncError {
  readonly code = 'NOT_FOUND'
  readonly status = 404
}

/** The request conflicts with what is stored (a partition over a prefix that already holds rows). */
export class ConflictError extends SyncError {
  readonly code = 'CONFLICT'
  readonly status = 409
}

/**
 * An index is still being backfilled (created on another instance, or by a request still running):
 * a search on it would miss items, so it is refused until the index covers every item.
 */
export class IndexBuildingError extends SyncError {
  readonly code = 'INDEX_BUILDING'
  readonly status = 503
  override readonly retryable = true
  constructor(
    readonly index: string,
    readonly covered: number,
  ) {
    super(`index ${JSON.stringify(index)} is being built (${covered} items covered so far); retry shortly`)
  }
}

export function isSyncError(error: unknown): error is SyncError {
  return error instanceof SyncError
}
