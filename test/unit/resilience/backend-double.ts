import { BackendError, type DeadlineSignal } from '@sync-engine/core/internal'

export interface PendingCall {
  readonly signal: DeadlineSignal
  resolve(value: string): void
  reject(error: unknown): void
}

/**
 * A backend whose every call is counted and, for `deferred`, stays pending until the test settles
 * it: so a test can hold a probe in flight, let a call hang past its deadline, or fail it late.
 */
export class BackendDouble {
  calls = 0
  readonly pending: PendingCall[] = []

  /** Answers at once. */
  readonly ok = async (): Promise<string> => {
    this.calls++
    return 'value'
  }

  /** Fails at once, as an unreachable backend does. */
  readonly down = async (): Promise<string> => {
    this.calls++
    throw new BackendError('l3', 'connection refused')
  }

  /** Fails at once with the given error (a caller error, a Redis reply…). */
  failWith(error: unknown): () => Promise<string> {
    return async () => {
      this.calls++
      throw error
    }
  }

  /** Stays pending until the test settles it through `pending`. */
  readonly deferred = (signal: DeadlineSignal): Promise<string> => {
    this.calls++
    return new Promise<string>((resolve, reject) => {
      this.pending.push({ signal, resolve, reject })
    })
  }

  /** The n-th deferred call (in call order). */
  call(index: number): PendingCall {
    const call = this.pending[index]
    if (call === undefined) throw new Error(`no deferred call #${index}`)
    return call
  }
}
