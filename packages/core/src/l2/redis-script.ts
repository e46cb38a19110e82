import { sha1 } from '@noble/hashes/legacy'
import { bytesToHex } from '@noble/hashes/utils'
import type { RedisArgument, RedisCommand } from './redis-transport.ts'

const encoder = new TextEncoder()

/**
 * A Lua script sent by SHA (EVALSHA) with the source as fallback (EVAL) when the server answers
 * NOSCRIPT — after a restart, a failover, SCRIPT FLUSH, or on a cluster node that has not seen it.
 * The SHA is computed here rather than asked of the server (SCRIPT LOAD), which would cost a round
 * trip and, on a cluster, load the script on one node only.
 */
export class RedisScript {
  readonly sha: string

  constructor(readonly source: string) {
    this.sha = bytesToHex(sha1(encoder.encode(source)))
  }

  evalsha(keys: readonly string[], args: readonly RedisArgument[]): RedisCommand {
    return ['EVALSHA', this.sha, keys.length, ...keys, ...args]
  }

  eval(keys: readonly string[], args: readonly RedisArgument[]): RedisCommand {
    return ['EVAL', this.source, keys.length, ...keys, ...args]
  }
}
