/** Lifecycle of an engine. `failed` is terminal, like `stopped`. */
export type EngineState =
  | 'created'
  | 'connecting'
  | 'draining-wal'
  | 'warming'
  | 'ready'
  | 'stopping'
  | 'stopped'
  | 'failed'

export type StateListener = (state: EngineState, previous: EngineState) => void
