'use strict'

/**
 * autocannon `setupClient`, loaded in its worker thread (workers mode takes a file path, not a
 * function). Records every response's time (ms, float) into the SharedArrayBuffer the scenario put
 * in the options as `benchLatencies`: an Int32 count at byte 0, Float64 values from byte 8.
 * autocannon's own latency histogram keeps whole milliseconds only.
 */
const { workerData } = require('node:worker_threads')

module.exports = function setupClient(client) {
  const shared = workerData?.opts?.benchLatencies
  if (!(shared instanceof SharedArrayBuffer)) throw new Error('latency-recorder: no benchLatencies buffer')
  const count = new Int32Array(shared, 0, 1)
  const values = new Float64Array(shared, 8)
  client.on('response', (_statusCode, _bytes, responseTime) => {
    const i = Atomics.add(count, 0, 1)
    if (i < values.length) values[i] = responseTime
  })
}
