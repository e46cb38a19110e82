import { problemFor } from '@sync-engine/http'

/**
 * What a warm instance builds on its first invocation (never at import: no I/O in the init phase),
 * shared by the invocations after it. A failed start is not kept: the next invocation tries again
 * (Redis or SQL may be back).
 */
export function bootOnce<T>(start: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | undefined
  return () => {
    started ??= start().catch((error: unknown) => {
      started = undefined
      throw error
    })
    return started
  }
}

/** An API Gateway / Function URL answer for an error before the app exists (bad config, tiers down). */
export function problemResult(error: unknown) {
  const answer = problemFor(error)
  return {
    statusCode: answer.problem.status,
    headers: { ...answer.headers, 'content-type': 'application/problem+json' },
    body: JSON.stringify(answer.problem),
    isBase64Encoded: false,
  }
}
