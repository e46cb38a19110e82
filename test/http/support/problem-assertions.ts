import { PROBLEM_TYPE_BASE, type Problem } from '@sync-engine/http'
import { expect } from 'vitest'

/**
 * Asserts an RFC 9457 answer: the status, the problem+json media type, and a body whose `type`
 * is the stable URI `https://sync-engine.dev/problems/<typeName>`. Returns the problem.
 */
export async function expectProblem(response: Response, status: number, typeName: string): Promise<Problem> {
  const text = await response.text()
  expect(response.status, text).toBe(status)
  expect(response.headers.get('content-type')).toBe('application/problem+json')
  const problem = JSON.parse(text) as Problem
  expect(problem.type).toBe(`${PROBLEM_TYPE_BASE}${typeName}`)
  expect(problem.status).toBe(status)
  expect(problem.code).toBe(typeName.toUpperCase().replace(/-/g, '_'))
  expect(typeof problem.title).toBe('string')
  expect(typeof problem.detail).toBe('string')
  return problem
}
