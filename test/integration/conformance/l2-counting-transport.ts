import type { RedisCapabilities, RedisCommand, RedisReply, RedisTransport } from '@sync-engine/core'

/**
 * Wraps a transport and counts what goes over it: `calls` are round trips (one per send,
 * pipeline or transaction), `commands` are Redis commands. Lets the suite prove "one read = one
 * round trip" on any transport, without server-wide counters that other tests disturb.
 */
export class CountingTransport implements RedisTransport {
  calls = 0
  commands = 0
  readonly names: string[] = []

  constructor(readonly inner: RedisTransport) {}

  get driver(): string {
    return this.inner.driver
  }
  get binarySafe(): boolean | undefined {
    return this.inner.binarySafe
  }

  reset(): void {
    this.calls = 0
    this.commands = 0
    this.names.length = 0
  }

  send(command: RedisCommand): Promise<RedisReply> {
    this.#count([command])
    return this.inner.send(command)
  }

  pipeline(commands: readonly RedisCommand[]): Promise<RedisReply[]> {
    this.#count(commands)
    return this.inner.pipeline(commands)
  }

  transaction(commands: readonly RedisCommand[]): Promise<RedisReply[]> {
    this.#count(commands)
    return this.inner.transaction(commands)
  }

  detectCapabilities(): Promise<RedisCapabilities> {
    return this.inner.detectCapabilities()
  }

  close(): Promise<void> {
    return this.inner.close()
  }

  #count(commands: readonly RedisCommand[]): void {
    this.calls++
    this.commands += commands.length
    for (const [name] of commands) this.names.push(name.toUpperCase())
  }
}
