/** The part of autocannon 8's API the HTTP scenarios use (the package ships no types). */
declare module 'autocannon' {
  export interface AutocannonRequest {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string | Buffer
    /** In workers mode: the path of a CommonJS module exporting `(request, context) => request`. */
    setupRequest?: string
  }

  export interface AutocannonOptions {
    url: string
    connections?: number
    pipelining?: number
    /** Seconds. */
    duration?: number
    /** Worker threads that run the connections (the options are structured-cloned to them). */
    workers?: number
    method?: string
    headers?: Record<string, string>
    body?: string | Buffer
    /** A response whose body differs counts in `mismatches`. */
    expectBody?: string
    /** In workers mode: the path of a CommonJS module exporting `(client) => void`. */
    setupClient?: string
    requests?: AutocannonRequest[]
    initialContext?: Record<string, unknown>
    /** Extra fields reach the workers as they are (`workerData.opts`). */
    [extra: string]: unknown
  }

  export interface AutocannonHistogram {
    readonly average: number
    readonly min: number
    readonly max: number
    readonly p50: number
    readonly p99: number
  }

  export interface AutocannonResult {
    /** Seconds. */
    readonly duration: number
    readonly errors: number
    readonly timeouts: number
    readonly mismatches: number
    readonly non2xx: number
    readonly resets: number
    readonly '2xx': number
    readonly statusCodeStats: Record<string, { count: number }>
    readonly latency: AutocannonHistogram & { readonly totalCount: number }
    /** `total`: completed requests; `sent`: requests written. */
    readonly requests: AutocannonHistogram & { readonly total: number; readonly sent: number }
  }

  function autocannon(options: AutocannonOptions): Promise<AutocannonResult>
  export default autocannon
}
