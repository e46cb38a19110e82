#!/usr/bin/env node
// The `sync-engine` command: the built package (`npm run build`, run by `npm install`), in this
// very process (no child process), so the PID of this process is the server's PID.
import { existsSync } from 'node:fs'

const main = new URL('../dist/main.js', import.meta.url)
if (!existsSync(main)) {
  process.stderr.write('sync-engine: the packages are not built; run `npm run build` (npm install does)\n')
  process.exit(1)
}
const { runCli } = await import(main.href)
await runCli(process.argv.slice(2))
