/// <reference path="./.sst/platform/config.d.ts" />

// A production stage keeps its resources in AWS when removed and refuses `sst remove`; both spellings
// count, since the documented deploy command uses `--stage prod`.
const PRODUCTION_STAGES = ['prod', 'production']

export default $config({
  app(input) {
    const production = PRODUCTION_STAGES.includes(input?.stage)
    return {
      name: 'sync-engine',
      removal: production ? 'retain' : 'remove',
      protect: production,
      home: 'aws',
    }
  },
  async run() {
    // Imported here, not at the top: the `sst` globals they use exist only once SST runs `run`.
    await import('./infra/flusher')
    const { outputs } = await import('./infra/api')
    return outputs
  },
})
