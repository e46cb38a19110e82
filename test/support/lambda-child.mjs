// Runs a Lambda bundle's handler in a process of its own, as the Lambda runtime would: one JSON
// line on stdin per invocation ({ event, remainingMs }), one JSON line on stdout per result
// ({ result } or { error }). Plain JavaScript, so it runs from a copy of dist/lambda with no loader
// and no node_modules anywhere. argv[2]: the bundle file (e.g. ./api.mjs), relative to the cwd.
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'

const { handler } = await import(pathToFileURL(process.argv[2]).href)
const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  const { event, remainingMs = 30_000 } = JSON.parse(line)
  const started = Date.now()
  const context = {
    awsRequestId: 'child',
    getRemainingTimeInMillis: () => remainingMs - (Date.now() - started),
  }
  try {
    process.stdout.write(`${JSON.stringify({ result: await handler(event, context) })}\n`)
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: String(error?.message ?? error) })}\n`)
  }
}
