import { SyncError } from '@sync-engine/core'

/**
 * Failures the HTTP layer detects itself (before the engine is involved). They extend the core's
 * `SyncError`, so one mapping turns every error into a problem response; `headers` are the ones
 * HTTP requires with the status (`WWW-Authenticate` with 401, `Allow` with 405).
 */
export abstract class HttpError extends SyncError {
  readonly headers: Readonly<Record<string, string>>

  constructor(message: string, headers: Readonly<Record<string, string>> = {}) {
    super(message)
    this.headers = headers
  }
}

export class UnauthorizedError extends HttpError {
  readonly code = 'UNAUTHORIZED'
  readonly status = 401

  constructor(reason: 'missing' | 'invalid') {
    super(
      reason === 'missing'
        ? 'this route needs an Authorization: Bearer <token> header'
        : 'the bearer token is not valid',
      // RFC 6750 §3: a rejected token is reported as invalid_token; a missing one carries no error code.
      {
        'www-authenticate':
          reason === 'missing'
            ? 'Bearer realm="sync-engine"'
            : 'Bearer realm="sync-engine", error="invalid_token"',
      },
    )
  }
}

export class MethodNotAllowedError extends HttpError {
  readonly code = 'METHOD_NOT_ALLOWED'
  readonly status = 405

  constructor(method: string, allowed: readonly string[]) {
    super(`${method} is not allowed here; allowed: ${allowed.join(', ')}`, { allow: allowed.join(', ') })
  }
}

/**
 * The request body is larger than the route accepts. Shares its code with the core's
 * `PayloadTooLargeError`, so both answer with the same problem type; this one is raised before
 * the body is read, when its full size may not be known yet (chunked bodies).
 */
export class RequestBodyTooLargeError extends HttpError {
  readonly code = 'PAYLOAD_TOO_LARGE'
  readonly status = 413

  constructor(limitBytes: number, declaredBytes: number | undefined) {
    super(
      declaredBytes === undefined
        ? `request body exceeds the limit of ${limitBytes} bytes`
        : `request body of ${declaredBytes} bytes exceeds the limit of ${limitBytes} bytes`,
    )
  }
}

/**
 * A conditional write whose `If-Match` tag can never match any version, so the HTTP layer
 * refuses it (412) without asking the engine: a weak tag (`If-Match` compares strongly, RFC 9110
 * §13.1.1) or a tag this server never issues (not a version). Shares its code with the core's
 * `PreconditionFailedError`; unlike it, it carries no `currentVersion` (nothing was read).
 */
export class UnmatchableEntityTagError extends HttpError {
  readonly code = 'PRECONDITION_FAILED'
  readonly status = 412

  constructor(
    readonly id: string,
    reason: 'weak' | 'foreign',
  ) {
    super(
      reason === 'weak'
        ? `If-Match compares strongly: a weak tag (W/"…") never matches ${JSON.stringify(id)}; send the ETag as it was returned`
        : `If-Match names no version of ${JSON.stringify(id)}: this server's ETags are "<version>" with a positive whole version`,
    )
  }
}
