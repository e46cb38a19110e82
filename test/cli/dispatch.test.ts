import { describe, expect, it } from 'vitest'
import { COMMANDS, main } from '../../packages/cli/src/main.ts'
import { memoryIo } from './support/memory-io.ts'

async function run(args: string[], env: Record<string, string> = {}) {
  const io = memoryIo({ env })
  const code = await main(args, io)
  return { code, out: io.stdoutText(), err: io.stderrText() }
}

describe('dispatch', () => {
  it('prints the usage on --help, -h and help (exit 0)', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const { code, out, err } = await run(args)
      expect(code).toBe(0)
      expect(out).toContain('Usage:')
      for (const command of COMMANDS) expect(out).toContain(`sync-engine ${command.name}`)
      expect(err).toBe('')
    }
  })

  it.each(COMMANDS.map((command) => command.name))('%s has --help', async (name) => {
    for (const args of [
      [name, '--help'],
      [name, '-h'],
      ['help', name],
    ]) {
      const { code, out } = await run(args)
      expect(code).toBe(0)
      expect(out).toContain(`Usage: sync-engine ${name}`)
    }
  })

  it.each([
    [['frobnicate'], "error: unknown command 'frobnicate'"],
    [['--frobnicate'], "error: unknown option '--frobnicate'"],
    [[], 'error: missing command'],
    [['help', 'frobnicate'], "error: unknown command 'frobnicate'"],
    [['stats', '--frobnicate'], "error: unknown option '--frobnicate'"],
    [['delete'], 'error: missing <id>'],
    [['stats', 'extra'], "error: unexpected argument 'extra'"],
  ])('%j is a usage error: one line, then the usage, exit 2', async (args, line) => {
    const { code, out, err } = await run(args)
    expect(code).toBe(2)
    expect(out).toBe('')
    expect(err.split('\n')[0]).toBe(line)
    expect(err).toContain('Usage:')
  })

  it('prints the version', async () => {
    const { code, out } = await run(['--version'])
    expect(code).toBe(0)
    expect(out).toMatch(/^sync-engine \d+\.\d+\.\d+\n$/)
  })
})

describe('serve configuration errors (before the server is loaded)', () => {
  it('rejects a bad --port as usage (exit 2)', async () => {
    const { code, err } = await run(['serve', '--port', 'http'])
    expect(code).toBe(2)
    expect(err.split('\n')[0]).toBe("error: --port must be a non-negative integer, got 'http'")
  })

  it('reports a ConfigError as "error: <message>", exit 2', async () => {
    const { code, err } = await run(['serve', '--port', '70000'])
    expect(code).toBe(2)
    expect(err).toMatch(/^error: invalid configuration: port \(SYNC_PORT\).*\n$/)
  })

  it('never echoes a token in a configuration error', async () => {
    const { code, err } = await run(['serve'], { SYNC_API_TOKENS: 'short-secret' })
    expect(code).toBe(2)
    expect(err).toContain('apiTokens (SYNC_API_TOKENS)')
    expect(err).not.toContain('short-secret')
  })
})
