/* Hand-written copy of what `sst dev` / `sst deploy` generate here (they overwrite this file), so
 * code that imports `Resource` from "sst" type-checks before the first deploy. Keep it in step with
 * the components in infra/ that are linked. */

import 'sst'

declare module 'sst' {
  export interface Resource {
    Api: {
      name: string
      type: 'sst.aws.Function'
      url: string
    }
    ApiTokens: {
      type: 'sst.sst.Secret'
      value: string
    }
    SqlUrl: {
      type: 'sst.sst.Secret'
      value: string
    }
    UpstashRedisRestToken: {
      type: 'sst.sst.Secret'
      value: string
    }
    UpstashRedisRestUrl: {
      type: 'sst.sst.Secret'
      value: string
    }
  }
}
