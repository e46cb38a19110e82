export { BinaryArgumentError } from './binary-argument-error.ts'
export { UpstashTransport, type UpstashTransportOptions } from './upstash-transport.ts'
