export { type AppOptions, createApp } from './app.ts'
export { PUBLIC_PATHS } from './auth/bearer-auth.ts'
export { constantTimeEqual, matchesAnyToken } from './auth/constant-time-equal.ts'
export { MAX_BATCH_ENTRIES } from './batch/batch-schemas.ts'
export { type EntityTag, etagFor, ifNoneMatchMatches, parseEntityTags } from './items/etag.ts'
export { isJsonMediaType } from './items/item-from-request.ts'
export type { RequestLine, RequestLineSink } from './middleware/request-log.ts'
export {
  HttpError,
  MethodNotAllowedError,
  RequestBodyTooLargeError,
  UnauthorizedError,
  UnmatchableEntityTagError,
} from './problems/http-errors.ts'
export {
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPE_BASE,
  type Problem,
  type ProblemAnswer,
  problemFor,
  problemResponse,
  problemTypeFor,
} from './problems/problem-details.ts'
