import { nodeTarget } from './contract-targets.ts'
import { httpContract } from './http-contract.ts'

httpContract('the Node server over sockets (embedded SQLite)', () =>
  nodeTarget('contract-token-0123456789abcdef'),
)
