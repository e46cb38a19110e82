import { existsSync } from 'node:fs'
import { environment, secrets } from './secrets'

// Same reason as the API: SST ships the prebuilt bundle instead of re-bundling it.
const bundle = 'dist/lambda'
if (!existsSync(`${bundle}/flusher.mjs`)) {
  throw new Error(`${bundle}/flusher.mjs is missing: run \`npm run build\` first`)
}

export const flusher = new sst.aws.CronV2('Flusher', {
  schedule: 'rate(1 minute)',
  function: {
    bundle,
    handler: 'flusher.handler',
    runtime: 'nodejs22.x',
    architecture: 'arm64',
    // Below the rate, so one run ends before the scheduler starts the next.
    timeout: '55 seconds',
    // One flusher at a time is enough for a one-minute rate; two at once would be safe (each outbox
    // shard is drained under a lease) but would only split the same work.
    concurrency: { reserved: 1 },
    // The scheduler invokes asynchronously; a failed or throttled run is superseded by the next
    // tick, so replaying it later (Lambda's default: 2 retries, events kept for 6 hours) only
    // piles stale runs onto the single reserved slot.
    retries: 0,
    transform: { eventInvokeConfig: { maximumEventAgeInSeconds: 60 } },
    link: secrets,
    environment: environment(),
  },
  // Delivered to the handler as JSON.stringify(event).
  event: {},
})
