/** An RFC 9457 problem details body, as the server sends it (every field optional on the wire). */
export interface Problem {
  readonly type?: string
  readonly title?: string
  readonly status?: number
  readonly detail?: string
  readonly code?: string
}

/** The message for a failed response: `<detail> (<code>)` from problem+json, else the HTTP status. */
export async function describeFailure(response: Response): Promise<string> {
  const problem = await readProblem(response)
  const text = problem?.detail ?? problem?.title ?? `HTTP ${response.status} ${response.statusText}`.trim()
  return problem?.code ? `${text} (${problem.code})` : text
}

async function readProblem(response: Response): Promise<Problem | undefined> {
  const type = response.headers.get('content-type') ?? ''
  if (!/json/i.test(type)) return undefined
  try {
    const body: unknown = await response.json()
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
    const record = body as Record<string, unknown>
    return {
      ...stringField(record, 'type'),
      ...stringField(record, 'title'),
      ...stringField(record, 'detail'),
      ...stringField(record, 'code'),
      ...(typeof record.status === 'number' ? { status: record.status } : {}),
    }
  } catch {
    return undefined
  }
}

function stringField(record: Record<string, unknown>, key: keyof Problem): Partial<Problem> {
  const value = record[key]
  return typeof value === 'string' && value !== '' ? { [key]: value } : {}
}
