import { isReplyError } from './redis-reply-error.ts'
import type { RedisScript } from './redis-script.ts'
import type { RedisArgument, RedisCommand, RedisReply } from './redis-transport.ts'

export interface ScriptCall {
  readonly script: RedisScript
  readonly keys: readonly string[]
  readonly args: readonly RedisArgument[]
}

/**
 * Runs script calls in one pipeline. A script not run yet through this runner goes once as EVAL
 * (which also caches it on the server) and then as EVALSHA in the same pipeline, so even the first
 * batch is one round trip. Calls answered NOSCRIPT (script cache emptied: a restart, a failover)
 * are sent again with EVAL — safe, as a NOSCRIPT call did nothing. Replies come back in call order,
 * errors in place: what an error means is the caller's to say.
 */
export class ScriptRunner {
  /** Scripts the server has run for us: EVALSHA is enough for them until it answers NOSCRIPT. */
  readonly #loaded = new Set<string>()

  constructor(private readonly pipeline: (commands: readonly RedisCommand[]) => Promise<RedisReply[]>) {}

  async run(calls: readonly ScriptCall[]): Promise<RedisReply[]> {
    const sending = new Set<string>()
    const commands = calls.map(({ script, keys, args }) => {
      if (this.#loaded.has(script.sha) || sending.has(script.sha)) return script.evalsha(keys, args)
      sending.add(script.sha)
      return script.eval(keys, args)
    })
    const replies = await this.pipeline(commands)
    const missing = replies.flatMap((reply, index) => (isReplyError(reply, 'NOSCRIPT') ? [index] : []))
    if (missing.length > 0) {
      const again = await this.pipeline(
        missing.map((index) => {
          const { script, keys, args } = calls[index]!
          return script.eval(keys, args)
        }),
      )
      missing.forEach((index, j) => {
        replies[index] = again[j] ?? null
      })
    }
    for (const call of calls) this.#loaded.add(call.script.sha)
    return replies
  }
}
