import { problemFor } from '@sync-engine/http'

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
