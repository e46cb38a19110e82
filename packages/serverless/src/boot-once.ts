/**
 * What a warm instance builds at its first invocation (never at import: no I/O in Lambda's init
 * phase, none allowed in a Worker's global scope), shared by the invocations after it; the first
 * call's argument (a Worker's `env`) is the one used. A failed start is not kept: the next
 * invocation tries again (Redis or SQL may be back).
 */
export function bootOnce<A, T>(start: (arg: A) => Promise<T>): (arg: A) => Promise<T> {
  let started: Promise<T> | undefined
  return (arg) => {
    started ??= start(arg).catch((error: unknown) => {
      started = undefined
      throw error
    })
    return started
  }
}
