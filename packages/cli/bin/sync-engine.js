#!/usr/bin/env node
// The `sync-engine` command. Runs TypeScript sources through tsx's ESM loader, registered in this
// very process (no child process), so the PID of this process is the server's PID.
import { register } from 'tsx/esm/api'

register()
const { runCli } = await import('../src/main.ts')
await runCli(process.argv.slice(2))
