import { sha256 } from '@noble/hashes/sha2'
import { bytesToHex } from '@noble/hashes/utils'

/**
 * Hex SHA-256 of the content. Node's native hash is several times faster than any JS one, so it
 * is used when the runtime offers it — found through `process.getBuiltinModule`, which keeps the
 * core free of a `node:` import (and so bundleable for Workers). Elsewhere @noble/hashes.
 */
type NodeCrypto = {
  createHash(algorithm: 'sha256'): { update(data: Uint8Array): { digest(encoding: 'hex'): string } }
}

const builtin = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined

export const sha256Hex: (bytes: Uint8Array) => string = builtin
  ? (bytes) => builtin.createHash('sha256').update(bytes).digest('hex')
  : (bytes) => bytesToHex(sha256(bytes))
