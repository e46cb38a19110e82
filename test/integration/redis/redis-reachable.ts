import { Socket } from 'node:net'

/**
 * Whether something answers a RESP PING at the URL's host and port within a second. Used to wait
 * for the tests' own redis-server processes to come up or go down.
 */
export function redisReachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = new Socket()
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('error', () => done(false))
    // Any reply counts (an auth-protected server answers -NOAUTH): the server is there.
    socket.once('data', () => done(true))
    socket.connect(Number(port || 6379), hostname.replace(/^\[|\]$/g, ''), () => socket.write('PING\r\n'))
  })
}
