import { bootOnce } from '../boot-once.ts'
import { jsonLogger } from '../json-logger.ts'
import { startOutboxFlusher } from '../serverless-engine.ts'
import { serverlessSettings } from '../serverless-settings.ts'
import { lambdaDrivers } from './lambda-drivers.ts'

/** The part of Lambda's context the flusher needs. */
export interface FlusherContext {
  getRemainingTimeInMillis(): number
}

const boot = bootOnce(async (env: NodeJS.ProcessEnv) => {
  const settings = serverlessSettings(env, 'lambda', 'flusher')
  return startOutboxFlusher(settings, lambdaDrivers, jsonLogger(settings.config.logLevel))
})

/**
 * The scheduled flusher (EventBridge Scheduler through `sst.aws.CronV2`, which sends `{}`): drains
 * the outbox into L3 within the invocation's remaining time and returns the counts (also logged).
 * A failure to start (SQL down, a misconfiguration) throws, so the invocation is reported failed;
 * a shard that fails mid-run is counted in `failed`, its entries stay for the next run.
 */
export async function handler(_event: unknown, context: FlusherContext) {
  const flusher = await boot(process.env)
  return flusher.run(() => context.getRemainingTimeInMillis())
}
