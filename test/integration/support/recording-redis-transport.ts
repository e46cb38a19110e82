import type { RedisCapabilities, RedisCommand, RedisReply, RedisTransport } from '@sync-engine/core/internal'

/**
 * A transport that records what a store sends and answers as a server that applied it: for the
 * paths the local Redis cannot run (RedisJSON, the query engine), checked by what they send. The
 * capabilities it reports are the server's it stands for (RedisJSON and the query engine by default).
 */
export class RecordingRedisTransport implements RedisTransport {
  readonly driver = 'recording'
  readonly sent: RedisCommand[][] = []

  constructor(private readonly detected: RedisCapabilities = { json: true, search: true, cluster: false }) {}

  async send(command: RedisCommand): Promise<RedisReply> {
    this.sent.push([command])
    return 1
  }

  async pipeline(commands: readonly RedisCommand[]): Promise<RedisReply[]> {
    // The layout check at init (SET NX + GET of the layout key): not what these cases record.
    if (commands[0]?.[0] === 'SET' && String(commands[0][1]).endsWith('x:layout')) return [null, null]
    this.sent.push([...commands])
    // A script call over several keys answers one reply per key.
    return commands.map((command) => {
      const keys = Number(command[2])
      return (command[0] === 'EVAL' || command[0] === 'EVALSHA') && keys > 1 ? Array(keys).fill(1) : 1
    })
  }

  async transaction(commands: readonly RedisCommand[]): Promise<RedisReply[]> {
    return this.pipeline(commands)
  }

  async detectCapabilities(): Promise<RedisCapabilities> {
    return this.detected
  }

  async close(): Promise<void> {}
}
