import { existsSync } from 'node:fs'
import { environment, secrets } from './secrets'

// `bundle` makes SST zip the build's output as it is instead of running its own esbuild over an
// already self-contained file: what `npm run build` produced and was tested is what Lambda runs.
const bundle = 'dist/lambda'
// SST zips whatever the directory holds, so a missing build would deploy a function with no code.
if (!existsSync(`${bundle}/api.mjs`)) {
  throw new Error(`${bundle}/api.mjs is missing: run \`npm run build\` first`)
}

export const api = new sst.aws.Function('Api', {
  bundle,
  handler: 'api.handler',
  runtime: 'nodejs22.x',
  architecture: 'arm64',
  // Lambda scales CPU with memory; below 1024 MB the engine's JSON and base64 work is CPU-bound.
  memory: '1024 MB',
  timeout: '30 seconds',
  url: true,
  link: secrets,
  environment: environment(),
})

export const outputs = { api: api.url }
