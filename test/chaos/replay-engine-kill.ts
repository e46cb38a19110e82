/**
 * The engine-kill chaos scenario as a script: `npm run chaos:engine-kill`. Prints what the load
 * did and "acknowledged N, recovered M"; exits 1 on any violation of the invariant.
 */
import { runEngineKillScenario } from './support/engine-kill-scenario.ts'
import { describeViolations } from './support/report.ts'

const result = await runEngineKillScenario({ log: (line) => console.log(line) })
console.log(`right after the restart: ${describeViolations(result.afterKill)}`)
console.log(`after more writes: ${describeViolations(result.afterMoreWrites)}`)
console.log(`graceful stop: exit ${result.gracefulExit.code ?? result.gracefulExit.signal}`)
console.log(`after a graceful restart: ${describeViolations(result.afterGracefulRestart)}`)
const failed =
  result.afterKill.length + result.afterMoreWrites.length + result.afterGracefulRestart.length > 0 ||
  result.gracefulExit.code !== 0
if (failed) console.error(`engine-kill: FAILED (seeds ${result.seeds.join(', ')})`)
process.exit(failed ? 1 : 0)
