// The few Web-platform globals the core uses. Declared here, not taken from Node's or the DOM's
// types, so that the core type-checks on its own and cannot lean on a Node-only API by accident.
declare function setTimeout(handler: () => void, ms?: number): unknown
declare function clearTimeout(handle: unknown): void
declare function queueMicrotask(callback: () => void): void
declare function btoa(data: string): string
declare function atob(data: string): string

declare class TextEncoder {
  encode(input?: string): Uint8Array
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean })
  decode(input?: Uint8Array): string
}

declare interface String {
  isWellFormed(): boolean
}

declare const crypto: { randomUUID(): string }
