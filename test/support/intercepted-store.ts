import { BackendError } from '@sync-engine/core'

/** Calls counted per method, and methods made to fail (an outage as the engine sees it). */
export interface Interception {
  readonly calls: Map<string, number>
  /** Methods that throw a `BackendError` without reaching the store while listed. */
  readonly failing: Set<string>
  total(): number
}

/**
 * Wraps a store (L2 or L3) so a test can count what the engine asks of it and fail chosen methods.
 * Everything else passes through to the real store.
 */
export function intercept<T extends object>(
  store: T,
  tier: 'l2' | 'l3',
): { store: T; interception: Interception } {
  const calls = new Map<string, number>()
  const failing = new Set<string>()
  const proxy = new Proxy(store, {
    get(target, property) {
      // Getters and methods run on the store itself: its private fields are not on the proxy.
      const value = Reflect.get(target, property, target)
      if (typeof value !== 'function' || typeof property !== 'string') return value
      return (...args: unknown[]) => {
        calls.set(property, (calls.get(property) ?? 0) + 1)
        if (failing.has(property))
          return Promise.reject(new BackendError(tier, `injected ${property} failure`))
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return {
    store: proxy,
    interception: { calls, failing, total: () => [...calls.values()].reduce((a, b) => a + b, 0) },
  }
}
