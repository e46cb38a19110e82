export { BinaryArgumentError } from './binary-argument-error.ts'
export { openUpstashStore } from './open-upstash-store.ts'
export { UpstashTransport, type UpstashTransportOptions } from './upstash-transport.ts'
