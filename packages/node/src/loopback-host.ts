import { isIPv4, isIPv6 } from 'node:net'

/**
 * Whether listening on `host` keeps the server reachable from this machine only: `localhost`,
 * 127.0.0.0/8, `::1` (in any spelling) and IPv4-mapped 127.x (`::ffff:127.0.0.1`).
 */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
  if (name === 'localhost') return true
  if (isIPv4(name)) return name.startsWith('127.')
  if (!isIPv6(name)) return false
  let canonical: string
  try {
    // The URL parser writes IPv6 in its canonical form: `0:0:0:0:0:0:0:1` → `[::1]`.
    canonical = new URL(`http://[${name}]/`).hostname
  } catch {
    return false
  }
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical)
}
