import type { Observed, WriteResult } from './history.ts'

/**
 * What the load drives: an engine in this process, or one behind HTTP. Implementations never
 * throw from `put`/`delete`; they classify each failure as `failed` (certainly not applied) or
 * `unknown` (may be applied, now or later), erring towards `unknown` when in doubt. `get` throws
 * when it gets no answer.
 */
export interface WriteTarget {
  put(id: string, content: string): Promise<WriteResult>
  delete(id: string): Promise<WriteResult>
  get(id: string): Promise<Observed>
}
