'use strict'

/**
 * autocannon `setupRequest`, loaded in its worker thread: every request gets an item id of its own,
 * `/v1/items/<idPrefix><n>` with n = 0, 1, 2… across all connections of the worker (one module
 * instance per worker). `idPrefix` comes from `initialContext`.
 */
let n = 0

module.exports = function setupRequest(request, context) {
  request.path = `/v1/items/${context.idPrefix}${n++}`
  return request
}
