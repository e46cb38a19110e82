import { handle, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda'
import { bootOnce } from '../boot-once.ts'
import { jsonLogger } from '../json-logger.ts'
import { startServerlessApp } from '../serverless-engine.ts'
import { serverlessSettings } from '../serverless-settings.ts'
import { lambdaDrivers } from './lambda-drivers.ts'
import { problemResult } from './problem-result.ts'

/**
 * The HTTP API on AWS Lambda (API Gateway v2 or a Function URL, not streaming): the Hono app of
 * the Node server behind `handle(app)`, over the engine built once per warm instance. A write is
 * acknowledged only once it is in L2 and the outbox (or stored, for `ack: 'stored'`): the instance
 * may freeze as soon as the response is sent, so nothing is left for later.
 */
const boot = bootOnce(async (env: NodeJS.ProcessEnv) => {
  const settings = serverlessSettings(env, 'lambda')
  const logger = jsonLogger(settings.config.logLevel)
  const { app } = await startServerlessApp(settings, lambdaDrivers, logger)
  return handle(app)
})

export async function handler(event: LambdaEvent, context: LambdaContext) {
  let serve: Awaited<ReturnType<typeof boot>>
  try {
    serve = await boot(process.env)
  } catch (error) {
    return problemResult(error)
  }
  return serve(event, context)
}
